"""The readiness probes behind ``/readyz``: database, cache (Redis), search engine, storage.

Each probe answers a state (``ok``, ``down``, or ``off`` for a dependency this deployment does not
use) and, for staff, its latency and the error's class. Only the database is required by default
(``PORTAL_READY_REQUIRED``): without it a node serves nothing, whereas a down Redis costs speed,
a down engine falls back to the database and a down object store costs downloads only, and
taking every node out of the load balancer for those would turn a partial outage into a full one.
Results are kept ``PORTAL_READY_CACHE_SECONDS`` per process, so a flood of probes costs the
dependencies one round of checks per interval. No probe reports addresses, credentials or
versions: an error is named by its class only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections

CHECKS = ("database", "cache", "search", "storage")
_lock = threading.Lock()
_memo: dict[str, Any] = {"at": None, "results": None}


def _database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _cache() -> str:
    cache = caches["default"]
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "off"  # a process-local cache (the embedded default): nothing to reach
    ping()
    return "ok"


def _search() -> str:
    if not getattr(settings, "PORTAL_SEARCH_URL", ""):
        return "off"  # the database backend answers searches: the database probe covers it
    from search.backends import get_search_backend

    client = getattr(get_search_backend("default"), "client", None)
    if client is None:
        return "off"
    timeout = float(getattr(settings, "PORTAL_READY_TIMEOUT", 2))
    client.options(request_timeout=timeout, max_retries=0).info()
    return "ok"


def _storage() -> str:
    from files.storage import s3_enabled

    if not s3_enabled():
        root = settings.MEDIA_ROOT
        if not (os.path.isdir(root) and os.access(root, os.R_OK | os.W_OK)):
            raise OSError("media folder missing or not writable")
        return "ok"
    from files.storage import bucket_storage

    storage: Any = bucket_storage(None)  # an S3Storage: boto3's client behind it
    # One HEAD of the bucket, with the client's configured timeouts and retries.
    storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    return "ok"


PROBES: dict[str, Callable[[], str]] = {
    "database": _database,
    "cache": _cache,
    "search": _search,
    "storage": _storage,
}


def _run(name: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        state, error = PROBES[name](), None
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "down"
        state, error = "down", type(exc).__name__
    result: dict[str, Any] = {
        "state": state,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        result["error"] = error
    return result


def readiness(*, detail: bool) -> dict[str, Any]:
    """The report: ``status`` (``ready``/``unready``) and one entry per dependency."""
    ttl = float(getattr(settings, "PORTAL_READY_CACHE_SECONDS", 2))
    now = time.monotonic()
    with _lock:
        results = _memo["results"]
        if results is None or _memo["at"] is None or now - _memo["at"] >= ttl:
            results = {name: _run(name) for name in CHECKS}
            _memo.update(at=now, results=results)
    required = set(getattr(settings, "PORTAL_READY_REQUIRED", ["database"]))
    ready = all(results[name]["state"] != "down" for name in CHECKS if name in required)
    checks: dict[str, Any] = {}
    for name in CHECKS:
        if detail:
            checks[name] = {**results[name], "required": name in required}
        else:
            checks[name] = results[name]["state"]
    return {"status": "ready" if ready else "unready", "checks": checks}


def forget() -> None:
    """Drop the kept results (tests; a setting changed)."""
    with _lock:
        _memo.update(at=None, results=None)
