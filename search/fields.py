"""What the portal search indexes per item: declared once, here, read by every backend.

Each declaration names an attribute of ``search.documents.SearchDocument``, with Wagtail's own
index field classes (``SearchField(boost=)`` for text, ``FilterField`` for what a query filters,
facets or sorts on, ``AutocompleteField`` for as-you-type suggestions; STYLE.md convention 11):

* the Elasticsearch backend builds its ``elasticsearch.dsl`` mapping and each document's source
  from them, and boosts its ``multi_match`` fields with the ``boost`` values;
* the database backend writes one ``SearchText`` column per text field (the full-text tables
  index those columns: SQLite FTS5 ranks with the boosts as ``bm25()`` weights, PostgreSQL's
  trigger weighs them A to D in the same order) and one ``SearchEntry`` column per filter field;
* ``SearchQuery`` refuses a filter on anything that is not a facet here (``FilterFieldError``),
  so a filter can never silently drop out of a search.

The full-text tables themselves are database structures (search/migrations): a new text field
needs a migration there as well as a line here; ``search.checks`` says so at start-up when the
two disagree.

Who may see an item is not declared here: the audience is the entitlement rule's business
(``permissions.policies``), which each backend applies in its own form.
"""

from __future__ import annotations

from wagtail.search.index import AutocompleteField, FilterField, SearchField

# Text, in the order of the full-text columns (FTS5 ``bm25()`` weights are given in this order).
TEXT_FIELDS: tuple[SearchField, ...] = (
    SearchField("title", boost=4.0),
    SearchField("summary", boost=2.0),
    SearchField("product", boost=2.0),  # product name and tag names
    SearchField("body", boost=1.0),  # page text: body, changelog, specifications, modules
    SearchField("attachments", boost=0.5),  # text of the attached PDFs (first 200,000 chars)
)
# The small "head" index: a match here ranks an item first when a query has more matches than
# the database backend ranks in full (docs/search.md, "Bounded work per query").
HEAD_FIELDS: tuple[str, ...] = ("title", "product")
AUTOCOMPLETE_FIELDS: tuple[AutocompleteField, ...] = (AutocompleteField("title"),)

# What a query can filter on, facet by or sort by. ``type``: keyword, date or boolean;
# ``multiple``: a list of values per item.
FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField("kind", type="keyword"),
    FilterField("locale", type="keyword"),
    FilterField("product_key", type="keyword"),
    FilterField("tags", type="keyword", multiple=True),  # tag slugs, several per item
    FilterField("first_published_at", type="date"),
    FilterField("last_published_at", type="date"),
    FilterField("expire_at", type="date"),
    FilterField("live", type="boolean"),
)

# Facets (and the ``?type=``/``?product=``/``?language=``/``?tag=`` filters): facet name ->
# filter field.
FACETS: dict[str, str] = {
    "kind": "kind",
    "product": "product_key",
    "locale": "locale",
    "tags": "tags",
}

FIELD_BOOSTS: dict[str, float] = {field.field_name: field.boost for field in TEXT_FIELDS}


def text_values(document) -> dict[str, str]:
    """The text fields of ``document`` (a SearchDocument), by field name."""
    return {field.field_name: getattr(document, field.field_name) or "" for field in TEXT_FIELDS}


def filter_values(document) -> dict[str, object]:
    """The filter fields of ``document``, by field name."""
    return {field.field_name: getattr(document, field.field_name) for field in FILTER_FIELDS}


def is_multiple(name: str) -> bool:
    """Does the filter field ``name`` hold several values per item?"""
    return next(f.kwargs.get("multiple", False) for f in FILTER_FIELDS if f.field_name == name)
