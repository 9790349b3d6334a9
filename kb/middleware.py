"""Object-store failures become a clear 503 page with retry advice instead of a 500; a NUL in
the request answers 400 before anything looks it up."""

from __future__ import annotations

import logging

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .storage import forget_store_health, storage_errors

logger = logging.getLogger("portal.storage")

RETRY_AFTER_SECONDS = 30


def storage_unavailable_response(request) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "503_storage.html",
        {"retry_after": RETRY_AFTER_SECONDS},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class StorageUnavailableMiddleware:
    """Any unhandled object-store error (boto3/botocore, kb.storage.StorageUnavailable) in a view
    answers 503. Uploads fail before their row is written (the object is stored first), so a
    failure leaves nothing half-written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, storage_errors()):
            logger.warning("object store failed on %s: %r", request.path, exception)
            forget_store_health()
            return storage_unavailable_response(request).render()
        return None


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
