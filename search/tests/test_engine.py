"""Engine-only behaviour against osmem-server: aliases over versioned indexes, per-locale
analyzers, searches during a rebuild, the rebuild command."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.test import override_settings

from kb.tests.factories import make_item
from search.backends.base import SearchFilter, SearchQuery
from search.documents import iter_documents
from search.tests.conftest import HAVE_OSMEM, engine_backend

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.search_engine,
    pytest.mark.skipif(not HAVE_OSMEM, reason="osmem-server not installed"),
]
STAFF = SearchFilter(scope="all")


@pytest.fixture
def engine(osmem_clone):
    return engine_backend(osmem_clone.url)


@pytest.fixture(scope="module")
def item_ids(module_portal):
    """Built once per module (tests/fixtures.py, module_db); each test gets fresh objects."""
    return [make_item(key=f"i{i}", title=f"Walrus guide {i}").pk for i in range(40)]


@pytest.fixture
def items(db, item_ids):
    from kb.models import PortalItemPage

    pages = PortalItemPage.objects.in_bulk(item_ids)
    return [pages[pk].specific for pk in item_ids]


def test_aliases_point_at_versioned_indexes_with_language_analyzers(engine, items):
    engine.rebuild(iter_documents())
    aliases = engine.client.indices.get_alias(name=engine.alias("en"))
    (index_name,) = aliases.keys()
    assert index_name.startswith(engine.alias("en") + "-")
    mapping = engine.client.indices.get_mapping(index=engine.alias("de"))
    (props,) = [m["mappings"]["properties"] for m in mapping.values()]
    assert props["title"]["analyzer"] == "german"
    cs = engine.client.indices.get_mapping(index=engine.alias("cs"))
    (cs_props,) = [m["mappings"]["properties"] for m in cs.values()]
    # osmem-server lacks the czech analyzer: the index is made with its fallback (docs/search.md).
    assert cs_props["title"]["analyzer"] == "folding"
    engine.rebuild(iter_documents())
    (new_name,) = engine.client.indices.get_alias(name=engine.alias("en")).keys()
    assert new_name != index_name
    assert not engine.client.indices.exists(index=index_name)  # the old index is dropped


def test_searches_during_a_rebuild_never_fail(engine, items):
    engine.rebuild(iter_documents())
    errors, counts, stop = [], [], threading.Event()

    def searcher():
        while not stop.is_set():
            try:
                counts.append(engine.search(SearchQuery("walrus", STAFF, limit=50)).total)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        for _ in range(3):
            engine.rebuild(iter_documents())
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert counts and set(counts) == {40}


def test_writes_during_a_rebuild_reach_the_new_index(engine, items, portal):
    """A publish, an edit and a deletion that happen while a rebuild runs survive its swap,
    whichever reaches the new index first (the rebuild read the edited and deleted items
    before the change)."""
    import dataclasses

    engine.rebuild(iter_documents())
    edited, deleted = items[0], items[1]
    created = make_item(key="late", title="Walrus primer")
    late_docs = {d.id: d for d in iter_documents() if d.id == created.pk}

    def documents():
        for position, doc in enumerate(d for d in iter_documents() if d.id != created.pk):
            yield doc
            if position == len(items) - 1:  # every item read, none sent yet (batches of 500)
                engine.bulk([dataclasses.replace(by_id[edited.pk], title="Narwhal handbook")])
                engine.delete(deleted.pk)
                engine.bulk(late_docs.values())

    by_id = {d.id: d for d in iter_documents()}
    engine.rebuild(documents())
    engine.refresh()
    assert engine.search(SearchQuery("narwhal", STAFF)).ids == [edited.pk]
    walrus = engine.search(SearchQuery("walrus", STAFF, limit=50))
    assert set(walrus.ids) == {i.pk for i in items[2:]} | {created.pk}
    assert walrus.total == 39
    # no tombstone is left behind, and no rebuild alias
    assert engine.client.count(index=engine.alias("en"))["count"] == 40
    assert engine._building() == {}


def test_a_rebuild_drops_the_index_of_a_rebuild_that_died(engine, items):
    engine.rebuild(iter_documents())
    abandoned = engine.alias("en") + "-20200101000000-dead00"
    engine.client.indices.create(index=abandoned)
    engine.client.indices.put_alias(index=abandoned, name=engine.building_alias("en"))
    assert engine._building() == {"en": [abandoned]}  # it would get every write
    engine.rebuild(iter_documents())
    assert not engine.client.indices.exists(index=abandoned)
    assert engine._building() == {}
    assert engine.search(SearchQuery("walrus", STAFF, limit=50)).total == 40


def test_rebuild_command_fills_engine_and_database(osmem_clone, items):
    from search.backends import get_search_backend

    config = {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": [osmem_clone.url],
            "INDEX_PREFIX": "cmd",
            "FALLBACK": "database",
        },
        "database": {"BACKEND": "search.backends.database"},
    }
    out = io.StringIO()
    with override_settings(PORTAL_SEARCH_BACKENDS=config):
        call_command("rebuild_search_index", "--no-progress", stdout=out)
        assert get_search_backend().search(SearchQuery("walrus", STAFF)).total == 40
    assert "elasticsearch: indexed 40 of 40 items" in out.getvalue()
    assert "database: indexed 40 of 40 items" in out.getvalue()
    assert get_search_backend().search(SearchQuery("walrus", STAFF)).total == 40  # the database


def test_an_index_built_before_the_spell_field_still_answers(engine):
    """Until ``rebuild_search_index`` runs after an upgrade, an index lacks the ``spell`` field
    the corrections' suggester asks for: searches answer from the engine without corrections
    (not from the fallback)."""
    name = engine.alias("en") + "-old"
    engine.client.indices.create(
        index=name,
        mappings={"properties": {"title": {"type": "text"}, "live": {"type": "boolean"}}},
    )
    engine.client.indices.put_alias(index=name, name=engine.alias("en"))
    engine.client.index(index=name, id="7", document={"title": "Router guide", "live": True})
    engine.client.indices.refresh(index=name)
    result = engine.search(SearchQuery("ruoter", STAFF, facets=False, highlight=False))
    assert result.ids == [7]
    assert result.corrections == {}
