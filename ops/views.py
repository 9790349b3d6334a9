"""``/healthz`` and ``/readyz`` for load balancers and orchestrators (docs/deployment.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from permissions.policies.principal import principal_for

from .health import readiness
from .middleware import DATABASE_FAULTS


@csrf_exempt
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and answers: touches no database, cache, engine or storage."""
    response = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def readiness_response(*, detail: bool) -> JsonResponse:
    """The readiness report: 200 when every required dependency is up, else 503. Anonymous
    callers get each dependency's state only; ``detail`` adds latencies and error classes."""
    report = readiness(detail=detail)
    response = JsonResponse(report, status=200 if report["status"] == "ready" else 503)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@csrf_exempt
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """``/readyz``: staff (as permissions decides) see latencies and detail, others states only."""
    try:
        staff = principal_for(request.user).kind == "staff"
    except DATABASE_FAULTS:  # the session or user could not be read: answer as to anyone
        staff = False
    return readiness_response(detail=staff)
