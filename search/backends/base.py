"""The one interface every portal search backend implements (STYLE.md conventions 10-12).

Views, tasks and commands talk only to ``BaseSearchBackend``; they never branch on the engine.
A backend receives the asker's entitlement as ``permissions.policies.SearchFilter`` and must
translate it into a filter inside its own query (never a list of allowed ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from permissions.policies.search import SearchFilter

from ..documents import SearchDocument
from ..fields import FACETS

__all__ = [
    "BaseSearchBackend",
    "FilterFieldError",
    "SearchBackendError",
    "SearchFilter",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "Suggestion",
]


class SearchBackendError(Exception):
    """The engine failed or timed out (callers may fall back to another backend)."""


class FilterFieldError(ValueError):
    """A query filtered on a field that is not indexed as a filter."""


@dataclass
class SearchQuery:
    text: str
    entitlement: SearchFilter
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet name -> wanted values
    sort: Literal["relevance", "date"] = "relevance"
    offset: int = 0
    limit: int = 20
    facets: bool = True
    highlight: bool = True
    # False: words match only as typed (no typo tolerance, no compound parts): ``?exact=1``,
    # the "search instead for" link of a corrected query.
    fuzzy: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise FilterFieldError(f"not a filter field: {', '.join(sorted(unknown))}")


@dataclass
class SearchHit:
    id: int
    score: float = 0.0
    title_highlight: str = ""  # plain text with search.highlight's marks around matches
    snippet: str = ""


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    backend: str = ""
    # False when a backend stopped counting at its limit (like Elasticsearch's total relation
    # "gte"): ``total`` and the facet counts then cover the first ``total`` matches only.
    total_exact: bool = True
    # Query words the index does not hold (typos), each with the close indexed words the
    # backend matched instead, best first. Candidates only: they may come from items the asker
    # cannot see, so ``search.selectors`` shows one only when a visible result contains it.
    corrections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [hit.id for hit in self.hits]


@dataclass
class Suggestion:
    id: int
    title: str


ProgressCallback = Callable[[int], None]


class BaseSearchBackend:
    """Search, suggest, index one, delete one, bulk, rebuild."""

    name = "base"
    catch_indexing_errors = False

    def __init__(self, params: dict | None = None) -> None:
        self.params = params or {}

    def search(self, query: SearchQuery) -> SearchResult:
        raise NotImplementedError

    def suggest(
        self, prefix: str, entitlement: SearchFilter, *, limit: int = 8
    ) -> list[Suggestion]:
        raise NotImplementedError

    def index(self, document: SearchDocument) -> None:
        self.bulk([document])

    def delete(self, item_id: int) -> None:
        raise NotImplementedError

    def bulk(self, documents: Iterable[SearchDocument]) -> int:
        raise NotImplementedError

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        """Replace the whole index with ``documents``; searches keep working meanwhile."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Make writes visible to searches (engines); a no-op for the database."""
