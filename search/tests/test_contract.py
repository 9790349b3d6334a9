"""The contract every portal search backend passes (database and Elasticsearch alike)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from reportlab.pdfgen import canvas

from kb.services import Audience, FileSpec, library_for_locale, product_ensure
from kb.tests.factories import make_item
from permissions.policies.search import SearchFilter, search_filter_for
from permissions.tests.factories import MembershipFactory, TierFactory
from search.backends.base import FilterFieldError, SearchQuery
from search.documents import iter_documents
from search.highlight import MARK_START

pytestmark = pytest.mark.django_db


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world_ids(module_portal):
    """Built once per module (tests/fixtures.py, module_db); each test gets fresh objects."""
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    router = product_ensure(name="Router X")
    items = {
        "install": make_item(
            key="install",
            kind="training_guide",
            title="Installation guide",
            summary="How to mount the device on a wall.",
            body="<p>Start with the quick setup, then configure the uplink.</p>",
            product=router,
        ),
        "sheet": make_item(
            key="sheet",
            title="Router X datasheet",
            summary="Throughput and ports; see the installation chapter.",
            body="<p>Setup quick reference for partners.</p>",
            product=router,
        ),
        "secret": make_item(
            key="secret",
            title="Installation secrets",
            summary="Gold partners only.",
            audience=Audience(min_tier=gold),
        ),
        "brochure": make_item(
            key="brochure",
            kind="marketing_asset",
            title="Spring brochure",
            summary="Campaign material.",
            files=[FileSpec(name="flyer.pdf", content=_pdf("Zeppelin campaign overview"))],
        ),
        "de": make_item(
            key="de",
            title="Installationsanleitung",
            summary="Montage des Geräts.",
            parent=library_for_locale("de"),
        ),
    }
    return {"member": member.pk, "items": {key: item.pk for key, item in items.items()}}


@pytest.fixture
def world(db, world_ids):
    from accounts.models import User
    from kb.models import PortalItemPage

    pages = PortalItemPage.objects.in_bulk(world_ids["items"].values())
    return {
        "member": User.objects.get(pk=world_ids["member"]),
        "items": {key: pages[pk].specific for key, pk in world_ids["items"].items()},
    }


def _build(backend):
    backend.rebuild(iter_documents())
    backend.refresh()


def _ids(result):
    return set(result.ids)


STAFF = SearchFilter(scope="all")


def test_finds_by_words_and_boosts_title(backend, world):
    _build(backend)
    items = world["items"]
    result = backend.search(SearchQuery("installation", STAFF))
    assert {items["install"].pk, items["sheet"].pk, items["secret"].pk} <= _ids(result)
    # title matches rank above a summary-only match
    assert result.ids.index(items["sheet"].pk) > result.ids.index(items["install"].pk)


def test_typo_tolerance(backend, world):
    _build(backend)
    result = backend.search(SearchQuery("instalation gide", STAFF))
    assert world["items"]["install"].pk in _ids(result)


def test_quoted_phrase(backend, world):
    _build(backend)
    items = world["items"]
    result = backend.search(SearchQuery('"quick setup"', STAFF))
    assert _ids(result) == {items["install"].pk}  # the sheet has "setup quick", not the phrase


def test_entitlement_filters_results_and_facets(backend, world):
    _build(backend)
    items = world["items"]
    flt = search_filter_for(world["member"])
    result = backend.search(SearchQuery("installation", flt))
    assert items["secret"].pk not in _ids(result)
    assert items["install"].pk in _ids(result)
    assert sum(result.facets["kind"].values()) == result.total
    assert result.facets["kind"].get("product_sheet") == 1  # the sheet, not the secret sheet
    anonymous = backend.search(SearchQuery("installation", search_filter_for(AnonymousUser())))
    assert anonymous.total == 0
    none = backend.search(SearchQuery("installation", SearchFilter(scope="none")))
    assert none.total == 0


def test_highlights(backend, world):
    _build(backend)
    result = backend.search(SearchQuery("uplink", STAFF))
    (hit,) = result.hits
    assert MARK_START in hit.snippet
    title_hit = backend.search(SearchQuery("brochure", STAFF)).hits[0]
    assert MARK_START in title_hit.title_highlight


def test_sort_pagination_and_filters(backend, world):
    _build(backend)
    items = world["items"]
    query = SearchQuery("installation", STAFF, sort="date", limit=2)
    first = backend.search(query)
    assert first.total == 3
    assert len(first.hits) == 2
    query.offset = 2
    second = backend.search(query)
    assert len(second.hits) == 1
    assert set(first.ids).isdisjoint(second.ids)
    by_date = first.ids + second.ids
    assert by_date[0] == items["secret"].pk  # created last
    filtered = backend.search(
        SearchQuery("installation", STAFF, filters={"kind": ["training_guide"]})
    )
    assert filtered.ids == [items["install"].pk]
    by_product = backend.search(
        SearchQuery("installation", STAFF, filters={"product": ["router-x"]})
    )
    assert _ids(by_product) == {items["install"].pk, items["sheet"].pk}
    german = backend.search(SearchQuery("montage", STAFF, filters={"locale": ["de"]}))
    assert german.ids == [items["de"].pk]
    assert german.facets["locale"] == {"de": 1}
    with pytest.raises(FilterFieldError):
        SearchQuery("x", STAFF, filters={"eff_min_rank": ["1"]})


def test_pdf_text_is_searchable(backend, world):
    _build(backend)
    result = backend.search(SearchQuery("zeppelin", STAFF))
    assert result.ids == [world["items"]["brochure"].pk]


def test_suggest_respects_entitlement(backend, world):
    _build(backend)
    flt = search_filter_for(world["member"])
    titles = [s.title for s in backend.suggest("instal", flt)]
    assert "Installation guide" in titles
    assert "Installation secrets" not in titles
    assert "Installation secrets" in [s.title for s in backend.suggest("installation se", STAFF)]


def test_index_one_and_delete_one(backend, world):
    from search.documents import build_documents

    _build(backend)
    item = world["items"]["brochure"]
    item.title = "Autumn brochure"
    item.save_revision().publish()
    backend.index(build_documents([item])[0])
    backend.refresh()
    assert backend.search(SearchQuery("autumn", STAFF)).ids == [item.pk]
    backend.delete(item.pk)
    backend.refresh()
    assert backend.search(SearchQuery("autumn", STAFF)).ids == []


def _tag(page, *tags):
    """Tag ``page`` the editor's way: set the tags and publish a revision."""
    page = page.specific_class.objects.get(pk=page.pk)
    page.tags.set(list(tags))
    page.save_revision().publish()


def test_tags_facet_filter_and_text(backend, world):
    items = world["items"]
    _tag(items["install"], "onboarding", "q4-2026")
    _tag(items["sheet"], "datasheet", "q4-2026")
    _tag(items["secret"], "q4-2026")  # gold only
    _build(backend)

    result = backend.search(SearchQuery("installation", STAFF))
    assert result.facets["tags"] == {"q4-2026": 3, "onboarding": 1, "datasheet": 1}
    member = search_filter_for(world["member"])
    visible = backend.search(SearchQuery("installation", member))
    assert visible.facets["tags"] == {"q4-2026": 2, "onboarding": 1, "datasheet": 1}
    by_tag = backend.search(SearchQuery("installation", member, filters={"tags": ["q4-2026"]}))
    assert _ids(by_tag) == {items["install"].pk, items["sheet"].pk}
    assert by_tag.facets["tags"] == {"q4-2026": 2, "onboarding": 1, "datasheet": 1}
    either = backend.search(
        SearchQuery("installation", STAFF, filters={"tags": ["onboarding", "datasheet"]})
    )
    assert _ids(either) == {items["install"].pk, items["sheet"].pk}  # values of one facet: OR
    # The tag words are indexed as text: a query for a tag finds its items.
    assert _ids(backend.search(SearchQuery("onboarding", STAFF))) == {items["install"].pk}
    assert _ids(backend.search(SearchQuery("q4-2026", member))) == {
        items["install"].pk,
        items["sheet"].pk,
    }


def test_title_and_product_matches_rank_above_body_matches(backend, world):
    """Issue #14: an item naming the word in its title or product comes before items that
    only mention it in their text, however often."""
    _build(backend)
    items = world["items"]
    result = backend.search(SearchQuery("router", STAFF))
    # "Router X datasheet" (title) and the installation guide (product Router X) first.
    assert set(result.ids[:2]) == {items["sheet"].pk, items["install"].pk}
    uplink = backend.search(SearchQuery("setup", STAFF))
    assert _ids(uplink) == {items["install"].pk, items["sheet"].pk}  # body matches only


def test_typo_corrections_and_exact_search(backend, world):
    _build(backend)
    items = world["items"]
    # Two letters missing: no stemmer makes it a word of the index (the engine's English
    # stemmer turns "instalation" and "installation" alike into "instal").
    fuzzy = backend.search(SearchQuery("instalaton", STAFF))
    assert items["install"].pk in _ids(fuzzy)
    assert fuzzy.corrections["instalaton"][0] == "installation"
    # Words the index holds are not corrections.
    assert backend.search(SearchQuery("installation", STAFF)).corrections == {}
    # exact: no typo tolerance and nothing to correct (the language analysis still applies)
    exact = backend.search(SearchQuery("instalaton", STAFF, fuzzy=False))
    assert exact.total == 0 and exact.corrections == {}
    assert _ids(backend.search(SearchQuery("installation", STAFF, fuzzy=False))) >= {
        items["install"].pk
    }


def test_german_compound_parts(backend, world):
    """German writes compounds as one word: a part finds the compound ("Anleitung" finds
    "Installationsanleitung"), also with a typo in the compound ("Installationsanleitug")."""
    _build(backend)
    german = world["items"]["de"].pk
    for text in ("anleitung", "Installationsanleitug"):
        result = backend.search(SearchQuery(text, STAFF, filters={"locale": ["de", "en"]}))
        assert german in _ids(result), text
    # Only for languages configured with compounds (PORTAL_SEARCH_LANGUAGES).
    languages = {**settings.PORTAL_SEARCH_LANGUAGES}
    languages["de"] = {**languages["de"], "compounds": False}
    with override_settings(PORTAL_SEARCH_LANGUAGES=languages):
        whole = backend.search(SearchQuery("anleitung", STAFF, filters={"locale": ["de"]}))
    assert german not in _ids(whole)
    exact = backend.search(SearchQuery("anleitung", STAFF, filters={"locale": ["de"]}, fuzzy=False))
    assert exact.total == 0
