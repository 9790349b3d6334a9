"""The portal's HTTP edge: a NUL in
the request answers 400 before anything looks it up; every response is private to its user;
the Content-Security-Policy of portal pages and of the admin."""

from __future__ import annotations

from csp.middleware import CSPMiddleware
from csp.utils import default_config
from django.conf import settings
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _


def bad_request_response(request, message: str) -> TemplateResponse:
    """A 400 page that says what was wrong with the request."""
    response = TemplateResponse(request, "400.html", {"message": message}, status=400)
    response["Cache-Control"] = "no-store"
    return response


class RejectNulMiddleware:
    """A NUL character anywhere in the path or the query answers 400, before any view, lookup
    or redirect middleware runs. PostgreSQL refuses NUL in text (psycopg raises ValueError), so
    each filter, slug or redirect lookup would otherwise be a 500 on PostgreSQL only; no real
    URL of the portal contains one. A cookie with a NUL (possible through RFC 2109 octal
    escapes) is dropped as if it had not been sent (a session key with NUL would be a 500 in
    the session lookup)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.GET
        if "\x00" in request.path_info or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in query.lists()
        ):
            return bad_request_response(
                request,
                _("The address contains a NUL character, which is never valid here."),
            ).render()
        for name in [n for n, v in request.COOKIES.items() if "\x00" in n or "\x00" in v]:
            del request.COOKIES[name]
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Every response is for its user only: ``Cache-Control: private`` (plus ``no-cache``, so a
    browser revalidates instead of showing one user's page to the next person at the same
    machine) when a view set nothing, and ``private`` added to whatever a view set unless it
    said ``public`` on purpose. Every portal page shows who is logged in, lists what they may
    see or carries a CSRF token, so no response here may sit in a shared cache.

    A private response also says ``Vary: Cookie, Accept-Language``: what it holds depends on
    the session (who, and their entitlement) and on the UI language, which comes from the
    profile, the language cookie or, for a visitor, Accept-Language. Django adds them only where
    the session or LocaleMiddleware's own choice was read (not on /de/, say), and a browser
    keeps a page under these headers: another login or language at the same browser must not
    be shown the stored copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        current = response.get("Cache-Control", "")
        directives = {d.strip().split("=")[0].lower() for d in current.split(",") if d.strip()}
        if not current:
            patch_cache_control(response, private=True, no_cache=True)
        elif "public" not in directives and "private" not in directives:
            patch_cache_control(response, private=True)
        if "public" not in directives:
            patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with one policy for the portal (``CONTENT_SECURITY_POLICY``:
    no inline script or style) and a looser one for the Wagtail admin
    (``PORTAL_ADMIN_CONTENT_SECURITY_POLICY``): Wagtail 8's admin renders inline scripts,
    inline event handlers and inline styles (docs/decisions.md lists what was checked)."""

    def get_policy_parts(self, request, response, report_only: bool = False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if (
            not report_only
            and parts.config is None
            and request.path_info.startswith(settings.PORTAL_ADMIN_PATH_PREFIX)
        ):
            parts.config = default_config(
                settings.PORTAL_ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
            )
        return parts
