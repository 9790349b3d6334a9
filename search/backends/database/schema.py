"""The database backend's tables, as its raw SQL names them, and the per-language configs."""

from __future__ import annotations

from django.conf import settings

from ...fields import FACETS
from ...models import SearchChainNode, SearchEntry, SearchTerm, SearchText

ENTRY = SearchEntry._meta.db_table
TEXT = SearchText._meta.db_table
TERM = SearchTerm._meta.db_table
CHAIN = SearchChainNode._meta.db_table
# The facet columns every match is read with, last in each row, in search/fields.py FACETS order.
FACET_COLUMNS = ", ".join(f"{ENTRY}.{column}" for column in FACETS.values())
SNIPPET_SCAN = 6000  # characters of body / file text a snippet is looked for in


def language_settings(language: str) -> dict:
    languages = getattr(settings, "PORTAL_SEARCH_LANGUAGES", {})
    return languages.get(language) or languages.get("*") or {}


def ts_config_for(language: str) -> str:
    """The PostgreSQL text search config of ``language`` (stored per row on every database:
    the same index moves between engines with a dump and restore)."""
    return language_settings(language).get("postgres", "simple")
