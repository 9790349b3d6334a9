"""The index declaration (search/fields.py) is what every backend reads."""

from __future__ import annotations

import pytest

from search.fields import FACETS, FIELD_BOOSTS, FILTER_FIELDS, TEXT_FIELDS, text_values

TEXT = [f.field_name for f in TEXT_FIELDS]
FILTERS = [f.field_name for f in FILTER_FIELDS]


def test_the_elasticsearch_mapping_is_built_from_the_declaration(settings):
    from search.backends.elasticsearch import document_class

    mapping = document_class("en")._doc_type.mapping.to_dict()["properties"]
    for name in TEXT:
        assert mapping[name]["type"] == "text" and mapping[name]["analyzer"] == "english"
        assert mapping[name]["fields"]["folded"]["analyzer"] == "folding"
    types = {"keyword": "keyword", "date": "date", "boolean": "boolean"}
    for field in FILTER_FIELDS:
        assert mapping[field.field_name]["type"] == types[field.kwargs["type"]]
    assert mapping["title_suggest"]["type"] == "search_as_you_type"

    # Czech: Elasticsearch's czech analyzer, and its fallback for engines without it.
    def body_analyzer(**kwargs):
        return document_class("cs", **kwargs)._doc_type.mapping.to_dict()["properties"]["body"][
            "analyzer"
        ]

    assert body_analyzer() == "czech"
    assert body_analyzer(fallback=True) == "folding"
    # A language without its own entry takes the "*" default.
    assert (
        document_class("pl")._doc_type.mapping.to_dict()["properties"]["body"]["analyzer"]
        == "folding"
    )


def test_a_document_source_holds_every_declared_field():
    from search.backends.elasticsearch import to_source
    from search.documents import SearchDocument

    doc = _document()
    source = to_source(doc)
    assert {name: source[name] for name in TEXT} == text_values(doc)
    assert source["product"] == "Widget 9 pricing launch"  # product name and tag names
    assert source["tags"] == ["pricing", "launch"] and source["title_suggest"] == doc.title
    assert set(FILTERS) <= set(source)
    assert isinstance(doc, SearchDocument)


def test_the_database_tables_hold_the_declared_fields_and_weights():
    from search.backends.database.schema import FACET_COLUMNS
    from search.backends.database.sqlite import HEAD_WEIGHTS, WEIGHTS
    from search.models import SearchEntry, SearchText

    assert set(TEXT) <= {f.name for f in SearchText._meta.get_fields()}
    assert set(FILTERS) <= {f.name for f in SearchEntry._meta.get_fields()}
    assert WEIGHTS == "4.0, 2.0, 2.0, 1.0, 0.5"  # bm25() in the FTS5 column order
    assert HEAD_WEIGHTS == "4.0, 2.0"
    assert FACET_COLUMNS.count(".") == len(FACETS)
    assert FIELD_BOOSTS == {
        "title": 4.0,
        "summary": 2.0,
        "product": 2.0,
        "body": 1.0,
        "attachments": 0.5,
    }


def test_a_text_field_without_its_column_fails_the_system_check(monkeypatch):
    from wagtail.search.index import FilterField, SearchField

    from search import checks, fields

    assert checks.check_index_declaration() == []
    monkeypatch.setattr(
        fields, "TEXT_FIELDS", (*fields.TEXT_FIELDS, SearchField("teaser", boost=1))
    )
    monkeypatch.setattr(fields, "FILTER_FIELDS", (*fields.FILTER_FIELDS, FilterField("colour")))
    monkeypatch.setattr(fields, "FACETS", {**fields.FACETS, "shade": "hue"})
    ids = [error.id for error in checks.check_index_declaration()]
    assert ids == ["portal_search.E001", "portal_search.E002", "portal_search.E003"]


def test_a_query_may_filter_only_on_declared_facets():
    from permissions.policies.search import SearchFilter
    from search.backends.base import FilterFieldError, SearchQuery

    SearchQuery("x", SearchFilter(scope="all"), filters={name: ["a"] for name in FACETS})
    with pytest.raises(FilterFieldError, match="body"):
        SearchQuery("x", SearchFilter(scope="all"), filters={"body": ["a"]})


def test_an_unknown_flavor_fails_the_system_check(settings):
    from search.checks import check_search_settings

    settings.PORTAL_SEARCH_FLAVOR = "solr"
    assert [e.id for e in check_search_settings()] == ["portal_search.E010"]


def _document():
    from permissions.policies.search import SearchAudience
    from search.documents import SearchDocument

    audience = SearchAudience(
        public=True,
        min_rank=None,
        regions=None,
        types=None,
        excepted_org_ids=frozenset(),
        granted_org_ids=frozenset(),
        chain=(),
    )
    return SearchDocument(
        id=7,
        locale="en",
        kind="product_sheet",
        title="Widget 9 datasheet",
        summary="All about it",
        body="Long text",
        attachments="",
        product_key="widget-9",
        product_name="Widget 9",
        tags=["pricing", "launch"],
        tag_text="pricing launch",
        first_published_at=None,
        last_published_at=None,
        expire_at=None,
        live=True,
        audience=audience,
    )
