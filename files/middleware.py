"""Object-store failures become a clear 503 page with retry advice instead of a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse

from .storage import forget_store_health, storage_errors

logger = logging.getLogger("portal.storage")

RETRY_AFTER_SECONDS = 30


def storage_unavailable_response(request: HttpRequest) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "503.html",  # the portal's one 503 page (also the database's: ops/middleware.py)
        {"reason": "storage", "retry_after": RETRY_AFTER_SECONDS},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # The designed 503's marker (ops.middleware.UNAVAILABLE_HEADER; files sits below ops).
    response["X-Portal-Unavailable"] = "storage"
    return response


class StorageUnavailableMiddleware:
    """Any unhandled object-store error (boto3/botocore, files.storage.StorageUnavailable) in a view
    answers 503. Uploads fail before their row is written (the object is stored first), so a
    failure leaves nothing half-written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, storage_errors()):
            logger.warning("object store failed on %s: %r", request.path, exception)
            forget_store_health()
            return storage_unavailable_response(request).render()
        return None
