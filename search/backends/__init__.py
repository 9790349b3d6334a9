"""``get_search_backend()``: the configured portal search backend (PORTAL_SEARCH_BACKENDS)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSearchBackend

_cache: dict[str, BaseSearchBackend] = {}


def get_search_backend(name: str = "default") -> BaseSearchBackend:
    """The backend configured as ``name``; each backend module exports ``SearchBackend``."""
    config = settings.PORTAL_SEARCH_BACKENDS[name]
    key = f"{name}:{id(config)}"
    if key not in _cache:
        module = config["BACKEND"]
        cls = import_string(f"{module}.SearchBackend")
        _cache[key] = cls({k: v for k, v in config.items() if k != "BACKEND"})
    return _cache[key]


def reset_backend_cache() -> None:
    _cache.clear()


def fallback_backend() -> BaseSearchBackend:
    """The database backend, for when the engine is down or too slow (one per process, so its
    vocabulary and compiled filters are kept)."""
    if "fallback" not in _cache:
        from .database import SearchBackend

        _cache["fallback"] = SearchBackend({})
    return _cache["fallback"]
