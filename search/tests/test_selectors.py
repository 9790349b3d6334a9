"""Products in the search (docs/decisions.md, "Products are translatable"): the facet stays
keyed by product key, one value per product across locales, labelled, like the result lines,
in the reader's content language; an item's product text holds its translated and source names."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from kb.services import library_for_locale, product_ensure
from kb.tests.factories import make_item
from kb.tests.test_snippets import product_translation
from permissions.tests.factories import MembershipFactory
from search.backends import get_search_backend
from search.documents import iter_documents
from search.selectors import portal_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(portal, monkeypatch):
    monkeypatch.setattr("search.selectors._PRODUCT_NAMES", (0.0, {}))  # rolled-back names
    x5 = product_ensure(name="X5 Switch")
    product_translation(x5, "cs", "Přepínač X5 Kompakt")
    f9 = product_ensure(name="F9 Firewall")
    make_item(key="en-x5", title="Rollout notes en", product=x5)
    make_item(key="en-f9", title="Rollout notes firewall", product=f9)
    make_item(key="cs-x5", title="Rollout notes cs", parent=library_for_locale("cs"), product=x5)
    get_search_backend().rebuild(iter_documents())
    return MembershipFactory().user


def search(user, language: str, q: str = "rollout"):
    user.preferred_language = language
    return portal_search(user=user, params=QueryDict(f"q={q}&language=all"))


def test_the_facet_is_one_value_per_product_named_in_the_readers_language(world):
    cs = search(world, "cs")
    assert [(f.value, f.label, f.count) for f in cs.facets["product"]] == [
        ("x5-switch", "Přepínač X5 Kompakt", 2),
        ("f9-firewall", "F9 Firewall", 1),
    ]
    assert {r.product for r in cs.results} == {"Přepínač X5 Kompakt", "F9 Firewall"}
    en = search(world, "en")
    assert [(f.value, f.label) for f in en.facets["product"]] == [
        ("x5-switch", "X5 Switch"),
        ("f9-firewall", "F9 Firewall"),
    ]
    assert {r.product for r in en.results} == {"X5 Switch", "F9 Firewall"}
    # The filter is by key: both locales' items of the product.
    user = world
    user.preferred_language = "cs"
    filtered = portal_search(
        user=user, params=QueryDict("q=rollout&language=all&product=x5-switch")
    )
    assert sorted(r.title_html for r in filtered.results) == [
        "<mark>Rollout</mark> notes cs",
        "<mark>Rollout</mark> notes en",
    ]


def test_an_item_is_found_by_its_products_translated_and_source_names(world):
    assert [r.language for r in search(world, "cs", "kompakt").results] == ["cs"]
    assert sorted(r.language for r in search(world, "cs", "switch").results) == ["cs", "en"]
