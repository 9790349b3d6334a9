"""The configured portal search backends (``PORTAL_SEARCH_BACKENDS``) and their fallback chain.

``PORTAL_SEARCH_BACKENDS`` maps an alias to a backend: ``BACKEND`` is the dotted path of a module
that exports ``SearchBackend``, the other keys are its parameters, and ``FALLBACK`` names the
alias that answers when this one fails (``SearchBackendError``). The chain starts at
``"default"``; every backend in it is kept in step with the content, so a fallback answers from
current data. Nothing outside this module knows which engine is which.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import BaseSearchBackend

_cache: dict[str, BaseSearchBackend] = {}
_NOT_PARAMETERS = ("BACKEND", "FALLBACK")


def get_search_backend(name: str = "default") -> BaseSearchBackend:
    """The backend configured as ``name`` (one instance per process and configuration, so its
    vocabulary and compiled filters are kept)."""
    config = settings.PORTAL_SEARCH_BACKENDS[name]
    key = f"{name}:{id(config)}"
    if key not in _cache:
        cls = import_string(f"{config['BACKEND']}.SearchBackend")
        _cache[key] = cls({k: v for k, v in config.items() if k not in _NOT_PARAMETERS})
    return _cache[key]


def chain_names() -> list[str]:
    """The aliases in the order they answer: ``"default"``, then each one's ``FALLBACK``."""
    names: list[str] = []
    name: str | None = "default"
    while name:
        if name in names:
            raise ImproperlyConfigured(f"PORTAL_SEARCH_BACKENDS: FALLBACK loops back to {name!r}")
        if name not in settings.PORTAL_SEARCH_BACKENDS:
            raise ImproperlyConfigured(f"PORTAL_SEARCH_BACKENDS has no {name!r} (a FALLBACK)")
        names.append(name)
        name = settings.PORTAL_SEARCH_BACKENDS[name].get("FALLBACK")
    return names


def search_chain() -> list[BaseSearchBackend]:
    """The backends in the order they answer a search; every one of them is indexed."""
    return [get_search_backend(name) for name in chain_names()]


def reset_backend_cache() -> None:
    _cache.clear()
