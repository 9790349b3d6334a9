"""The database backend on SQLite (the embedded default): FTS5.

Two FTS5 tables index ``SearchText`` as external content (search/migrations): ``portal_search_fts``
(every text field, search/fields.py order) and the small ``portal_search_head`` (HEAD_FIELDS).
Matches come in rowid order lazily, so ``LIMIT`` bounds a query's work; ``bm25()`` ranks with the
fields' boosts as weights; highlights are computed in Python (``highlighting.py``).
"""

from __future__ import annotations

from contextlib import nullcontext

from ...fields import FIELD_BOOSTS, HEAD_FIELDS, TEXT_FIELDS
from ...fuzzy import Vocabulary
from ...highlight import Highlighter
from ...query import ParsedQuery
from ..base import SearchHit
from .highlighting import highlight_hits
from .schema import ENTRY, FACET_COLUMNS, TERM, TEXT

# bm25() weights, in the FTS5 tables' column order (the text fields' order).
WEIGHTS = ", ".join(str(field.boost) for field in TEXT_FIELDS)
HEAD_WEIGHTS = ", ".join(str(FIELD_BOOSTS[name]) for name in HEAD_FIELDS)

# The vocabulary of a fresh index, with each word's document count, from FTS5's own (the same
# words the tokenizer indexed; migration 0004 runs the same statement).
VOCABULARY_FROM_FTS = f"""
INSERT OR IGNORE INTO {TERM} (term, documents)
SELECT term, doc FROM portal_search_vocab
WHERE length(term) > 2 AND length(term) <= 60 AND term GLOB '*[^0-9]*'
"""  # noqa: S608


class SQLiteEngine:
    """What the database backend does differently on SQLite (chosen once per backend)."""

    name = "sqlite"
    # A rebuild fills the vocabulary from FTS5's own at the end, with document counts.
    vocabulary_per_batch = False

    def query(self, cursor, parsed: ParsedQuery, groups: list[list[str]], vocabulary, locales):
        return SQLiteQuery(parsed, groups, vocabulary.estimate(groups, parsed.phrases))

    def load_vocabulary(self, terms, entries) -> Vocabulary:
        """``terms``/``entries``: the SearchTerm and SearchEntry querysets."""
        counts = dict(terms.values_list("term", "documents"))
        return Vocabulary(counts, counts, entries.count())

    def finish_rebuild(self, cursor) -> None:
        """Inside the rebuild's transaction: compact the FTS5 indexes, fill the vocabulary."""
        for table in ("portal_search_fts", "portal_search_head"):
            cursor.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
        cursor.execute(VOCABULARY_FROM_FTS)

    def after_rebuild(self, connection) -> None:
        """After the rebuild committed: nothing on SQLite."""

    def suggest(self, cursor, typed: list[str], where: str, params: list, limit: int):
        """(id, title) of visible items whose title has words starting with every ``typed``."""
        match = "title : (" + " AND ".join(f'"{w}" *' for w in typed) + ")"
        cursor.execute(
            f"SELECT {ENTRY}.id, {TEXT}.title FROM portal_search_head "  # noqa: S608
            f"JOIN {ENTRY} ON {ENTRY}.id = portal_search_head.rowid "
            f"JOIN {TEXT} ON {TEXT}.id = {ENTRY}.id "
            f"WHERE portal_search_head MATCH %s AND {where} "
            "ORDER BY bm25(portal_search_head) LIMIT %s",
            [match, *params, limit],
        )
        return cursor.fetchall()

    def lock_drains(self, cursor) -> None:
        """Serialise search outbox drains: SQLite's transactions already take the write lock
        at BEGIN (IMMEDIATE), so nothing to do."""


class SQLiteQuery:
    """One search's statements on SQLite (see ``backend.SearchBackend.search``)."""

    lower_is_better = True  # bm25(): more negative is better

    @staticmethod
    def planner(cursor):
        return nullcontext()

    def __init__(
        self, parsed: ParsedQuery, groups: list[list[str]], estimate: float | None = None
    ) -> None:
        self.estimate = estimate  # expected matches (Vocabulary.estimate), None: unknown
        parts = ["(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in groups]
        parts += ['"' + " ".join(phrase) + '"' for phrase in parsed.phrases]
        self.match = " AND ".join(parts)
        self.terms = {t for group in groups for t in group} | {
            w for phrase in parsed.phrases for w in phrase
        }
        self.weights = WEIGHTS
        self.head_weights = HEAD_WEIGHTS

    def _newest_matches(self, cursor, table: str, columns: str, where: str, params, n: int):
        # FTS5 yields matches in rowid order lazily, so LIMIT stops the scan: the cost is bounded
        # by ``n``, not by how many items match. Scores run only for the rows returned.
        cursor.execute(
            f"SELECT {columns} FROM {table} JOIN {ENTRY} ON {ENTRY}.id = {table}.rowid "  # noqa: S608
            f"WHERE {table} MATCH %s AND {where} ORDER BY {table}.rowid DESC LIMIT %s",
            [self.match, *params, n],
        )
        return cursor.fetchall()

    def matches(
        self, cursor, where: str, params: list, n: int
    ) -> tuple[list[tuple], dict[int, float] | None]:
        """The newest n visible matches: (id, facet columns…), newest first; and their scores
        when they came with the scan (else None: ``scores`` on demand)."""
        if self.estimate is not None and self.estimate <= 2 * n:
            # Few matches expected, so the query is likely below the bound and every match
            # will be ranked: score in the same scan (a second pass would read the doclists
            # again). Many expected: scan unscored, and score only if the page needs it.
            columns = f"{ENTRY}.id, bm25(portal_search_fts, {self.weights}), {FACET_COLUMNS}"
            rows = self._newest_matches(cursor, "portal_search_fts", columns, where, params, n)
            return [(r[0], *r[2:]) for r in rows], {r[0]: r[1] for r in rows}
        columns = f"{ENTRY}.id, {FACET_COLUMNS}"
        return self._newest_matches(cursor, "portal_search_fts", columns, where, params, n), None

    def scores(self, cursor, ids: list[int]) -> dict[int, float]:
        """bm25 of the items ``ids`` (matches of this query), by id."""
        if not ids:
            return {}
        # The id range is an FTS5 rowid constraint: only that stretch of the doclists is read
        # for the rows; the entitlement was applied when the ids were found.
        cursor.execute(
            f"SELECT rowid, bm25(portal_search_fts, {self.weights}) FROM portal_search_fts "  # noqa: S608
            "WHERE portal_search_fts MATCH %s AND rowid >= %s AND rowid <= %s",
            [self.match, min(ids), max(ids)],
        )
        return dict(cursor.fetchall())

    def head_matches(self, cursor, where: str, params: list, n: int) -> list[tuple[int, float]]:
        """Visible matches in title, product name or tags: (id, bm25 over those columns)."""
        columns = f"{ENTRY}.id, bm25(portal_search_head, {self.head_weights})"
        return self._newest_matches(cursor, "portal_search_head", columns, where, params, n)

    def newest(self, cursor, where: str, params: list, n: int) -> list[tuple]:
        cursor.execute(
            f"SELECT {ENTRY}.id, {ENTRY}.last_published_at, {FACET_COLUMNS} FROM {ENTRY} "  # noqa: S608
            f"WHERE {ENTRY}.id IN (SELECT rowid FROM portal_search_fts "
            f"WHERE portal_search_fts MATCH %s) AND {where} "
            f"ORDER BY {ENTRY}.last_published_at DESC, {ENTRY}.id DESC LIMIT %s",
            [self.match, *params, n],
        )
        return cursor.fetchall()

    def highlight(self, cursor, hits: list[SearchHit]) -> None:
        # In Python over the hits' text rows: FTS5's highlight()/snippet() need the MATCH again,
        # and a MATCH limited to a few rowids still reads the query's whole doclists (its cost
        # grows with the catalogue: 2 ms per item at 100k). Words are compared the way the
        # tokenizer does (lower case, no diacritics).
        highlighter = Highlighter(self.terms)
        highlight_hits(cursor, hits, lambda _cursor, texts: dict.fromkeys(texts, highlighter))
