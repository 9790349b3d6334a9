"""The backend chain PORTAL_SEARCH_BACKENDS configures: "default", then each FALLBACK; searches
ask them in order, index writes go to all of them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.test import override_settings

from search.backends import chain_names, search_chain
from search.backends.base import BaseSearchBackend, SearchBackendError, SearchResult

ASKED: list[str] = []


class SearchBackend(BaseSearchBackend):
    """A stand-in backend (this module is its ``BACKEND``): ``FAIL`` makes it raise."""

    def __init__(self, params=None):
        super().__init__(params)
        self.name = self.params["NAME"]

    def search(self, query):
        ASKED.append(self.params["NAME"])
        if self.params.get("FAIL"):
            raise SearchBackendError("down")
        return SearchResult(total=0, hits=[], backend=self.params["NAME"])

    def suggest(self, prefix, entitlement, *, limit=8):
        ASKED.append(self.params["NAME"])
        if self.params.get("FAIL"):
            raise SearchBackendError("down")
        return []


HERE = "search.tests.test_backends"


def _config(**fallbacks):
    return {
        name: {"BACKEND": HERE, "NAME": name, "FAIL": name in fallbacks.get("failing", ())}
        | ({"FALLBACK": fallbacks[name]} if name in fallbacks else {})
        for name in ("default", "second", "third")
    }


def test_the_chain_follows_fallback_from_default():
    with override_settings(PORTAL_SEARCH_BACKENDS=_config(default="second", second="third")):
        assert chain_names() == ["default", "second", "third"]
        assert [b.params["NAME"] for b in search_chain()] == ["default", "second", "third"]
    with override_settings(PORTAL_SEARCH_BACKENDS=_config()):
        assert chain_names() == ["default"]  # "second" is configured but in no chain


@pytest.mark.parametrize(
    "config, message",
    [
        ({"default": {"BACKEND": HERE, "FALLBACK": "default"}}, "loops"),
        ({"default": {"BACKEND": HERE, "FALLBACK": "missing"}}, "no 'missing'"),
    ],
)
def test_a_broken_chain_is_refused(config, message):
    from search.checks import check_search_settings

    with override_settings(PORTAL_SEARCH_BACKENDS=config):
        with pytest.raises(ImproperlyConfigured, match=message):
            chain_names()
        assert [e.id for e in check_search_settings()] == ["portal_search.E011"]


def test_searches_walk_the_chain_until_one_answers(db):
    from django.contrib.auth.models import AnonymousUser

    from search.selectors import portal_search, portal_suggest

    params = QueryDict("q=walrus")
    config = _config(default="second", second="third", failing=("default", "second"))
    ASKED.clear()
    with override_settings(PORTAL_SEARCH_BACKENDS=config):
        page = portal_search(user=AnonymousUser(), params=params)
        assert page.backend == "third" and "reduced mode" in page.notice
        portal_suggest(user=AnonymousUser(), prefix="walrus")
    assert ASKED == ["default", "second", "third"] * 2
    ASKED.clear()
    with override_settings(PORTAL_SEARCH_BACKENDS=_config(default="second")):
        page = portal_search(user=AnonymousUser(), params=params)
    assert (page.backend, page.notice, ASKED) == ("default", "", ["default"])


def test_the_last_backend_of_the_chain_may_fail_loudly(db):
    from django.contrib.auth.models import AnonymousUser

    from search.selectors import portal_search

    with override_settings(PORTAL_SEARCH_BACKENDS=_config(failing=("default",))):
        with pytest.raises(SearchBackendError):
            portal_search(user=AnonymousUser(), params=QueryDict("q=walrus"))


def test_index_writes_go_to_every_backend_of_the_chain():
    from search.services import index_backends

    with override_settings(PORTAL_SEARCH_BACKENDS=_config(default="third")):
        assert [b.params["NAME"] for b in index_backends()] == ["default", "third"]
