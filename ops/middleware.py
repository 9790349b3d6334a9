"""Database faults answer a retry or a designed 503, never a raw 500; health probes answer before
anything else runs (issue #16, docs/deployment.md "What each part may lose")."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger("portal.database")

# What a lost, refused or failed-over connection raises (psycopg: "server closed the connection",
# "terminating connection due to administrator command", "connection already closed"; SQLite:
# "database is locked"). Integrity and programming errors are bugs or conflicts, not faults.
DATABASE_FAULTS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
SAFE_METHODS = frozenset({"GET", "HEAD"})
# On every designed 503 (also files/middleware.py's, for the object store): "database" or "storage".
UNAVAILABLE_HEADER = "X-Portal-Unavailable"
_ERROR_ATTR = "_ops_database_fault"
# The 503 page has no script and loads only the portal's stylesheet.
UNAVAILABLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)


def note_request_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: Django turns an exception inside the middleware chain
    into a 500 response before the outermost middleware sees it; this keeps the database fault
    on the request so ``DatabaseFaultMiddleware`` can tell it from any other 500."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_FAULTS):
        setattr(request, _ERROR_ATTR, exc)


def retry_after_seconds() -> int:
    return int(getattr(settings, "PORTAL_UNAVAILABLE_RETRY_AFTER", 30))


def unavailable_response(
    request: HttpRequest, reason: str, retry_after: int | None = None
) -> HttpResponse:
    """The designed 503 page (templates/503.html) in the user's language, rendered without the
    request's context processors (they read the user, i.e. the database that just failed)."""
    seconds = retry_after_seconds() if retry_after is None else retry_after
    language = page_language(request)
    with translation.override(language):
        html = render_to_string(
            "503.html",
            {"reason": reason, "retry_after": seconds, "page_language": translation.get_language()},
        )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "private, no-store"
    # Tells a designed 503 from a raw error without reading the page (the fault drill, .ci/drill.py,
    # and monitoring count these apart); the value is the failed part, never a detail of it.
    response[UNAVAILABLE_HEADER] = reason
    # Made outside the security and CSP middleware (they may not have run): their headers here.
    response["Content-Security-Policy"] = UNAVAILABLE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


def page_language(request: HttpRequest) -> str:
    """The UI language of ``request`` as accounts decides it (profile, cookie, Accept-Language),
    without loading the user: the profile language counts only if the user was already read
    before the database failed."""
    from types import SimpleNamespace

    from accounts.languages import ui_language_for

    user = getattr(request, "_cached_user", None)
    try:
        return ui_language_for(
            SimpleNamespace(COOKIES=request.COOKIES, META=request.META, user=user)
        )
    except Exception:  # noqa: BLE001 - a 503 page in English beats none
        return settings.LANGUAGE_CODE


def _discard_connections() -> None:
    """Close every connection the failed attempt used, so the retry opens fresh ones (a failed-
    over primary, a terminated backend). A connection inside an atomic block belongs to someone
    else's transaction (a test's): it is left alone."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        try:
            connection.close()
        except DATABASE_FAULTS:  # closing a dead connection may raise too; it is gone either way
            connection.connection = None


class DatabaseFaultMiddleware:
    """Outermost but for health probes. A request that meets a lost database connection:

    - a safe read (GET/HEAD) is retried once on fresh connections. Nothing has been sent yet:
      the whole response is built before this middleware returns it (a streamed body that fails
      later cannot be retried, and none of the portal's streams reads the database);
    - anything else, or a retry that fails again, answers the designed 503 with ``Retry-After``.
      A write is never retried (it may have committed before the connection broke) and never
      half-applied: each request's view runs in one transaction on PostgreSQL (ATOMIC_REQUESTS,
      settings), and services run in their own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response, fault = self._attempt(request)
        if fault is None:
            return response  # type: ignore[return-value]
        if request.method in SAFE_METHODS:
            logger.warning(
                "database fault on %s %s, retrying once: %r", request.method, request.path, fault
            )
            _discard_connections()
            response, fault = self._attempt(request)
            if fault is None:
                return response  # type: ignore[return-value]
        logger.error("database fault on %s %s: %r (503)", request.method, request.path, fault)
        _discard_connections()
        return unavailable_response(request, "database")

    def _attempt(
        self, request: HttpRequest
    ) -> tuple[HttpResponseBase | None, BaseException | None]:
        setattr(request, _ERROR_ATTR, None)
        try:
            response = self.get_response(request)
        except DATABASE_FAULTS as exc:  # raised while the 500 page itself was being made
            return None, exc
        fault = getattr(request, _ERROR_ATTR, None)
        if fault is not None and response.status_code >= 500:
            return None, fault
        return response, None


class HealthCheckMiddleware:
    """First in the chain: ``/healthz`` (and ``/readyz`` for a caller without a session) answer
    here, before the host check, the HTTPS redirect, sessions, CSRF and language redirects: a
    load balancer probes a node by its address, over plain HTTP, without cookies. A ``/readyz``
    with a session cookie goes on to the routed view, which shows staff the detail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from . import views

        if request.path_info == "/healthz":
            return views.healthz(request)
        if request.path_info == "/readyz" and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return views.readiness_response(detail=False)
        return self.get_response(request)
