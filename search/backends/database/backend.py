"""The database backend: SQLite FTS5 (the embedded default) or PostgreSQL full-text search.

Both query the full-text index directly, joined with the narrow entry row that carries the
facet columns and the audience, so a search costs one index lookup per query (not Wagtail's
correlated re-match). Typo tolerance comes from a term vocabulary matched by trigrams and edit
distance (search/fuzzy.py), expanded into an OR of the close terms before the query reaches the
database.

What differs per database lives in one module per engine (``sqlite.py``, ``postgresql.py``),
chosen once per backend from the connection (``ENGINES``); this module never asks which one it
has. The entitlement filter is ``entitlement.py``, the compiled WHERE clause ``filters.py``.

Bounded work: a query reads at most ``PORTAL_SEARCH_EXACT_LIMIT`` visible matches (the most
recently created ones, found lazily in rowid order) plus the visible matches in titles and product
names (a small index of its own). Counts, facets and ranking cover those; when there are more,
the result says so (``total_exact`` False, shown as "1,000+"). Without the bound a query's cost
grows with the number of items that match it, i.e. with the catalogue.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.utils.module_loading import import_string

from permissions.policies.rule import tokens
from permissions.policies.search import SearchFilter

from ...documents import SearchDocument
from ...fields import FACETS, is_multiple, text_values
from ...fuzzy import Vocabulary, VocabularyCache, bump_generation
from ...models import SearchChainNode, SearchEntry, SearchTerm, SearchText
from ...query import compounding, parse_query, words
from ..base import (
    BaseSearchBackend,
    ProgressCallback,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from .entitlement import audience_columns, chain_nodes
from .filters import WhereCache
from .schema import CHAIN, ENTRY, TERM, TEXT, ts_config_for

# The engine module per database vendor (Django's ``connection.vendor``).
ENGINES = {
    "sqlite": "search.backends.database.sqlite.SQLiteEngine",
    "postgresql": "search.backends.database.postgresql.PostgresEngine",
}
# Text whose words make the typo-tolerance vocabulary on single writes (a SQLite rebuild takes
# FTS5's own, which has every column).
VOCABULARY_FIELDS = ("title", "summary", "product", "body")


def engine_for(connection):
    """The engine of ``connection`` (``ENGINES``)."""
    try:
        path = ENGINES[connection.vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"the database search backend supports {', '.join(ENGINES)}, not {connection.vendor}"
        ) from None
    return import_string(path)()


class SearchBackend(BaseSearchBackend):
    name = "database"

    def __init__(self, params: dict | None = None) -> None:
        super().__init__(params)
        self.using = self.params.get("DATABASE", "default")
        self.engine = engine_for(self.connection)
        self._vocabulary = VocabularyCache(self._load_vocabulary)
        self._where = WhereCache(self.using)

    @property
    def connection(self):
        return connections[self.using]

    @property
    def exact_limit(self) -> int:
        return int(self.params.get("EXACT_LIMIT") or settings.PORTAL_SEARCH_EXACT_LIMIT)

    # --- writes ----------------------------------------------------------------------------
    @staticmethod
    def _entry(doc: SearchDocument) -> SearchEntry:
        return SearchEntry(
            id=doc.id,
            locale=doc.locale,
            kind=doc.kind,
            product_key=doc.product_key or "",
            tags=tokens(doc.tags) if doc.tags else "|",
            first_published_at=doc.first_published_at,
            last_published_at=doc.last_published_at,
            expire_at=doc.expire_at,
            live=doc.live,
            **audience_columns(doc),
        )

    @staticmethod
    def _text(doc: SearchDocument) -> SearchText:
        return SearchText(entry_id=doc.id, ts_config=ts_config_for(doc.locale), **text_values(doc))

    def bulk(self, documents: Iterable[SearchDocument]) -> int:
        docs = list(documents)
        if not docs:
            return 0
        with transaction.atomic(using=self.using):
            SearchEntry.objects.using(self.using).filter(pk__in=[d.id for d in docs]).delete()
            self._insert(docs)
        bump_generation()
        return len(docs)

    def _insert(self, docs: list[SearchDocument], rebuilding: bool = False) -> None:
        SearchEntry.objects.using(self.using).bulk_create(
            [self._entry(d) for d in docs], batch_size=500
        )
        SearchText.objects.using(self.using).bulk_create(
            [self._text(d) for d in docs], batch_size=500
        )
        SearchChainNode.objects.using(self.using).bulk_create(chain_nodes(docs), batch_size=500)
        if self.engine.vocabulary_per_batch or not rebuilding:
            vocabulary = {
                w
                for d in docs
                for w in words(" ".join(getattr(d, name) for name in VOCABULARY_FIELDS))
                if 2 < len(w) <= 60 and not w.isdigit()
            }
            SearchTerm.objects.using(self.using).bulk_create(
                [SearchTerm(term=w, documents=1) for w in sorted(vocabulary)],
                batch_size=1000,
                ignore_conflicts=True,
            )

    def delete(self, item_id: int) -> None:
        SearchEntry.objects.using(self.using).filter(pk=item_id).delete()
        bump_generation()

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        """Replace every entry in one transaction: concurrent searches see the old entries until
        it commits (MVCC on PostgreSQL, the WAL snapshot on SQLite)."""
        count = 0
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            # Children first, in plain DELETEs: the ORM's cascade would read every id first.
            for table in (CHAIN, TEXT, ENTRY, TERM):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our table names
            batch: list[SearchDocument] = []
            for doc in documents:
                batch.append(doc)
                if len(batch) >= 500:
                    self._insert(batch, rebuilding=True)
                    count += len(batch)
                    if progress:
                        progress(len(batch))
                    batch = []
            if batch:
                self._insert(batch, rebuilding=True)
                count += len(batch)
                if progress:
                    progress(len(batch))
            self.engine.finish_rebuild(cursor)
        self.engine.after_rebuild(self.connection)
        bump_generation()
        return count

    # --- vocabulary -------------------------------------------------------------------------
    def _load_vocabulary(self) -> Vocabulary:
        """The vocabulary table (re-read in each process after every index change, so it must
        stay cheap: FTS5's own ``fts5vocab`` took 1.4 s at 100k items, it scans the index)."""
        return self.engine.load_vocabulary(
            SearchTerm.objects.using(self.using), SearchEntry.objects.using(self.using)
        )

    # --- reads ------------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        if parsed.empty or query.entitlement.scope == "none":
            return SearchResult(total=0, hits=[], facets={}, backend=self.name)
        # One vocabulary read per search (it checks the index generation in the shared cache).
        vocabulary = self._vocabulary.get()
        groups, corrections = _term_groups(parsed.terms, vocabulary, query)
        where, where_params = self._where.get(query.entitlement, query.filters)
        with self.connection.cursor() as cursor:
            impl = self.engine.query(
                cursor, parsed, groups, vocabulary, query.filters.get("locale")
            )
            with impl.planner(cursor):
                if query.sort == "date":
                    rows = impl.newest(cursor, where, where_params, self.exact_limit + 1)
                    result = _date_result(rows, query, self.exact_limit)
                else:
                    result = self._relevance(impl, cursor, query, where, where_params)
                if query.highlight and result.hits:
                    impl.highlight(cursor, result.hits)
        if result.total:
            result.corrections = corrections
        return result

    def _relevance(self, impl, cursor, query: SearchQuery, where: str, params: list):
        limit = self.exact_limit
        wanted = query.offset + query.limit
        # The newest visible matches with their facet columns, unscored: scoring is the part of
        # a search whose cost grows with the catalogue (SQLite's bm25() counts each term's
        # documents over the whole index before the first score), so it runs only where the
        # page needs it.
        rows, scores = impl.matches(cursor, where, params, limit + 1)  # (id, facet columns…)
        exact = len(rows) <= limit
        rows = rows[:limit]
        # Items matching every query word in the title, product name or tags come first (ranked
        # by that match), then the other matches by their full-text score: a title match must
        # not drown in long texts that mention the word often (issue #14: "firewall" ranked the
        # four "F9 Firewall …" items 7th-10th). The Elasticsearch backend ranks the same way
        # (a boosted clause over the same fields). Beyond the bound this also finds title
        # matches however old: "X1 datasheet" must not drown in the 1,000 newest mentions of
        # X1. Scoring them against the full index instead would re-read every doclist of the
        # query per item (2 ms each at 100k items); the head index is small.
        ranked: list[tuple[int, int, float]] = [
            (i, 0, score) for i, score in impl.head_matches(cursor, where, params, limit)
        ]  # (id, tier, score)
        if exact or len(ranked) < wanted:
            # Below the bound, or a page that reaches past the title matches: the body
            # candidates ranked by the full-text score.
            head = {r[0] for r in ranked}
            if scores is None:
                scores = impl.scores(cursor, [r[0] for r in rows if r[0] not in head])
            ranked += [(r[0], 1, scores.get(r[0], 0.0)) for r in rows if r[0] not in head]
        return _ranked_result(ranked, rows, query, exact, impl.lower_is_better)

    def suggest(
        self, prefix: str, entitlement: SearchFilter, *, limit: int = 8
    ) -> list[Suggestion]:
        typed = words(prefix)[:6]
        if not typed or entitlement.scope == "none":
            return []
        where, params = self._where.get(entitlement, {})
        with self.connection.cursor() as cursor:
            rows = self.engine.suggest(cursor, typed, where, params, limit)
        return [Suggestion(id=row[0], title=row[1]) for row in rows]


def _term_groups(
    terms: list[str], vocabulary: Vocabulary, query: SearchQuery
) -> tuple[list[list[str]], dict[str, list[str]]]:
    """Each query term with the vocabulary words it also matches: close words (typo
    tolerance) and, for compounding languages, words holding it as a compound part; and the
    corrections (terms the index does not hold, with the close words matched instead).
    Without ``query.fuzzy`` every term matches only itself."""
    if not query.fuzzy:
        return [[term] for term in terms], {}
    compounds = compounding(query.filters.get("locale"))
    groups, corrections = [], {}
    for term in terms:
        group = vocabulary.expand(term)
        if term not in vocabulary.terms and len(group) > 1:
            corrections[term] = group[1:]
        if compounds:
            group = list(dict.fromkeys([*group, *vocabulary.compounds(term)]))
        groups.append(group)
    return groups, corrections


def _facets(rows) -> dict[str, dict[str, int]]:
    """Facet counts over ``rows``, whose last columns are the FACET_COLUMNS."""
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    multiple = [is_multiple(column) for column in FACETS.values()]
    for row in rows:
        for counts, several, value in zip(
            facets.values(), multiple, row[-len(FACETS) :], strict=True
        ):
            if not value or value == "|":
                continue
            for one in value.strip("|").split("|") if several else (value,):
                counts[one] = counts.get(one, 0) + 1
    return facets


def _ranked_result(
    ranked: list[tuple[int, int, float]],
    rows,
    query: SearchQuery,
    exact: bool,
    lower_is_better: bool,
) -> SearchResult:
    """``ranked``: (id, tier, score); lower tiers first, then the better score, then newer."""
    wanted = query.offset + query.limit
    sign = 1 if lower_is_better else -1  # bm25(): more negative is better; ts_rank: higher
    top = heapq.nsmallest(wanted, ranked, key=lambda r: (r[1], sign * r[2], -r[0]))
    hits = [SearchHit(id=i, score=-sign * score) for i, _tier, score in top[query.offset : wanted]]
    return SearchResult(
        total=len(ranked) if exact else len(rows),
        hits=hits,
        facets=_facets(rows) if query.facets else {},
        backend="database",
        total_exact=exact,
    )


def _date_result(rows, query: SearchQuery, limit: int) -> SearchResult:
    """``rows`` newest first (at most limit + 1): the page, and counts over the first ``limit``."""
    exact = len(rows) <= limit
    rows = rows[:limit]
    hits = [SearchHit(id=r[0]) for r in rows[query.offset : query.offset + query.limit]]
    return SearchResult(
        total=len(rows),
        hits=hits,
        facets=_facets(rows) if query.facets else {},
        backend="database",
        total_exact=exact,
    )


__all__ = ["ENGINES", "SearchBackend", "engine_for"]
