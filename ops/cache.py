"""A Redis cache that degrades to "no cache" instead of failing (issue #16).

Every portal process reads and writes the shared cache (sessions through ``cached_db``, the
products and locales lists, the region tree, the search vocabulary's generation). With Redis
down, Django's ``RedisCache`` raises on every call, so every login and most pages answered 500.
``ResilientRedisCache`` treats an unreachable or failing Redis as a miss:

- a read answers its default (a miss), so the caller reads the database;
- a write is skipped, and its key is remembered (``pending``) and deleted once Redis answers
  again, so an entry whose change was skipped (a logout, a region change, a bumped generation)
  can never come back stale after the outage;
- after a failure the cache is not tried again for ``RETRY_SECONDS`` (a black-holed Redis would
  otherwise cost every request its socket timeout);
- the failure is logged once per ``LOG_SECONDS`` with the number of calls that failed or were
  skipped since the last report, never once per call.

The limits of this (docs/deployment.md, "What each part may lose"): the remembered keys live in
the process that failed to write them; if it dies before Redis is back, they are lost (bounded
by each entry's own timeout). Beyond ``PENDING_LIMIT`` remembered keys the whole cache is
cleared on recovery instead, which is why Redis's database number must be the cache's alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("portal.cache")

T = TypeVar("T")

# Options of this backend (the others go to redis-py's connection pool).
DEFAULTS: dict[str, float] = {"RETRY_SECONDS": 5.0, "LOG_SECONDS": 60.0, "PENDING_LIMIT": 10_000}
# A Redis that accepts no connection or answers nothing must not hold a request for long.
SOCKET_DEFAULTS: dict[str, float] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    # OSError: a socket error redis-py did not wrap (it wraps most into ConnectionError).
    return (redis.exceptions.RedisError, OSError)


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool.

    Django makes a new ``redis.Redis`` for every cache call, and each one builds its table of
    about 170 response callbacks: measured at about a quarter of a millisecond of CPU per call,
    and a portal page makes 8 to 16 cache calls (issue #16, docs/performance.md "Capacity").
    A ``redis.Redis`` over a pool is safe to share between threads (each command borrows a
    connection from the pool), and the pool itself notices a fork, so one per pool is enough.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own helpers, which django-stubs does not declare.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            made = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            client = self._clients.setdefault(id(pool), made)
        return client


class ResilientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` whose failures are misses (see module)."""

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        own = {name: float(options.pop(name, default)) for name, default in DEFAULTS.items()}
        for name, default in SOCKET_DEFAULTS.items():
            options.setdefault(name, default)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self.retry_seconds = own["RETRY_SECONDS"]
        self.log_seconds = own["LOG_SECONDS"]
        self.pending_limit = int(own["PENDING_LIMIT"])
        self._lock = threading.Lock()
        self._down_until = 0.0  # clock() before which Redis is not tried
        self._next_report = 0.0  # clock() from which the next failure is logged
        self._unreported = 0  # calls failed or skipped since the last report
        self._pending: dict[str, None] = {}  # made keys whose write was skipped (ordered set)
        self._overflow = False  # more than pending_limit: clear the whole cache on recovery
        self._errors = _redis_errors()

    # --- the degrade machinery ---------------------------------------------------------------
    @property
    def available(self) -> bool:
        """False while failed calls are being skipped (for /readyz's detail and the tests)."""
        return self.clock() >= self._down_until

    def _call(self, call: Callable[[], T], default: T, written: Iterable[str] = ()) -> T:
        """Run ``call`` against Redis; on failure (or while skipping) answer ``default`` and
        remember the keys it would have written."""
        if not self.available:
            self._failed(None, written)
            return default
        try:
            self._replay()
            return call()
        except self._errors as exc:
            self._failed(exc, written)
            return default

    def _failed(self, exc: BaseException | None, written: Iterable[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in written:
                if len(self._pending) >= self.pending_limit:
                    self._overflow = True
                    break
                self._pending[key] = None
            self._unreported += 1
            if exc is not None:
                self._down_until = now + self.retry_seconds
            if exc is None or now < self._next_report:
                return
            self._next_report = now + self.log_seconds
            count, self._unreported = self._unreported, 0
        logger.warning(
            "cache unavailable (%s); %d cache call(s) answered as misses since the last report;"
            " retrying in %.0f s, next report at most in %.0f s",
            type(exc).__name__,
            count,
            self.retry_seconds,
            self.log_seconds,
        )

    def _replay(self) -> None:
        """Delete the entries whose writes were skipped while Redis was away (or clear the cache
        when too many were), before anything else reads them."""
        if not self._pending and not self._overflow:
            return
        with self._lock:
            keys, overflow = list(self._pending), self._overflow
        if overflow:
            self._client().clear()
        elif keys:
            self._client().delete_many(keys)
        with self._lock:
            for key in keys:
                self._pending.pop(key, None)
            self._overflow = self._overflow and not overflow
            count, self._unreported = self._unreported, 0
            self._next_report = 0.0
        logger.warning(
            "cache available again: %s; %d call(s) had been answered as misses",
            "cleared (too many skipped writes)"
            if overflow
            else f"{len(keys)} stale key(s) deleted",
            count,
        )

    def _client(self) -> Any:
        """Django's RedisCacheClient (``_cache``, which django-stubs does not declare)."""
        return getattr(self, "_cache")  # noqa: B009

    def _key(self, key: Any, version: int | None) -> str:
        made: str = self.make_and_validate_key(key, version=version)
        return made

    # --- the cache API ---------------------------------------------------------------------
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call(
            lambda: super(ResilientRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._call(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        # Not added (False): a caller using add() as a lock must not believe it holds one.
        return self._call(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._call(
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            None,
            written=[self._key(key, version)],
        )

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        data = dict(data)
        return self._call(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            list(data),
            written=[self._key(key, version) for key in data],
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call(
            lambda: super(ResilientRedisCache, self).delete(key, version),
            False,
            written=[self._key(key, version)],
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._call(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            None,
            written=[self._key(key, version) for key in keys],
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        value = self._call(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            missing,
            written=[self._key(key, version)],
        )
        if value is missing:
            # What the cache answers for a missing key: callers fall back to set() (a skipped
            # write, deleted on recovery, which readers take as a changed generation).
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return value  # type: ignore[return-value]

    def clear(self) -> None:
        # A skipped clear() cannot be replayed key by key: clear again on recovery.
        if self._call(lambda: super(ResilientRedisCache, self).clear() or True, False) is False:
            with self._lock:
                self._overflow = True

    def ping(self) -> None:
        """Ask Redis itself (no skipping, no miss): raises when it does not answer (/readyz)."""
        self._client().get_client(write=True).ping()
