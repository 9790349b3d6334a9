"""Per-user time zone for every request, and the UI language for templates.

The *content* language comes from the URL (/de/..., /cs/...; Wagtail routes by it), so the user's
preferred UI language is applied in templates (base.html wraps the page in ``{% language %}``)
rather than activated here, where it would re-route every page into another locale's tree.
"""

import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Activate the signed-in user's time zone.

    Runs after AuthenticationMiddleware; anonymous visitors keep the language negotiated by
    LocaleMiddleware (Accept-Language) and UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


def ui_language(request) -> dict:
    """Context processor: the language the portal UI speaks to this user."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.preferred_language:
        return {"ui_language": user.preferred_language}
    return {"ui_language": getattr(request, "LANGUAGE_CODE", "en")}


def portal_principal(request) -> dict:
    """Context processor: who is asking, as the policy sees it (cached per request)."""
    from permissions.policies.principal import principal_for

    return {"principal": principal_for(getattr(request, "user", None))}


# The anonymous account pages: logging in, the lockout and the password reset (portal and admin).
ACCOUNT_PAGES = frozenset(
    {
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "wagtailadmin_login",
        "wagtailadmin_password_reset",
        "wagtailadmin_password_reset_done",
        "wagtailadmin_password_reset_confirm",
        "wagtailadmin_password_reset_complete",
    }
)


class AccountPagesLanguageMiddleware:
    """Speak the visitor's language (language cookie, then Accept-Language) on the anonymous
    account pages.

    LocaleMiddleware gives every path without a language prefix the default language, because
    ``/`` is the English content tree (``prefix_default_language=False``). The login, lockout and
    reset pages are not content: once the URL is resolved (``process_view``, so no routing
    changes), they switch to the language the browser asks for. Signed-in users keep their
    profile language (base.html) and Wagtail's admin preference.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if match is None or match.url_name not in ACCOUNT_PAGES:
            return None
        if user is not None and user.is_authenticated:
            return None
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None
