"""Backends under contract: the database backend always; Elasticsearch against osmem-server
(marker ``search_engine``; skipped only when osmem-server is not installed)."""

from __future__ import annotations

import importlib.util
import itertools

import pytest

HAVE_OSMEM = importlib.util.find_spec("osmem_server") is not None
_prefix = itertools.count()


def engine_backend(url: str):
    from search.backends.elasticsearch import SearchBackend

    return SearchBackend({"URLS": [url], "INDEX_PREFIX": f"t{next(_prefix)}", "TIMEOUT": 10})


@pytest.fixture(
    params=[
        "database",
        pytest.param(
            "elasticsearch",
            marks=[
                pytest.mark.search_engine,
                pytest.mark.skipif(not HAVE_OSMEM, reason="osmem-server not installed"),
            ],
        ),
    ]
)
def backend(request, db):
    if request.param == "database":
        from search.backends.database import SearchBackend

        return SearchBackend({})
    clone = request.getfixturevalue("osmem_clone")
    return engine_backend(clone.url)
