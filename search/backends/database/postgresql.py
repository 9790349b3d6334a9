"""The database backend on PostgreSQL: full-text search with per-language configs.

A weighted ``document`` tsvector (the text fields, weights A-D in search/fields.py order) and a
``head`` tsvector (HEAD_FIELDS), with GIN indexes, are database-only columns of the narrow
``SearchEntry`` row, computed from ``SearchText`` by a trigger with the item's language config
(search/migrations). A query has one branch per config the indexed items use; ``ts_rank`` ranks
the rows a page needs; highlights are computed in Python with PostgreSQL's lexemes
(``lexemes.py``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction

from ...fuzzy import GENERATION_KEY, Vocabulary
from ...query import ParsedQuery
from ..base import SearchHit
from .highlighting import highlight_hits
from .lexemes import LexemeHighlighters
from .schema import CHAIN, ENTRY, FACET_COLUMNS, TEXT, ts_config_for

# One number for every search outbox drain's transaction-level advisory lock (drains serialise).
DRAIN_LOCK_KEY = 0x5EA2C4_0B0C


class PostgresEngine:
    """What the database backend does differently on PostgreSQL (chosen once per backend)."""

    name = "postgresql"
    vocabulary_per_batch = True  # a rebuild writes each batch's words (no FTS5 vocabulary here)

    def __init__(self) -> None:
        self._configs: tuple[object, list[str]] | None = None

    def query(self, cursor, parsed: ParsedQuery, groups: list[list[str]], vocabulary, locales):
        """``locales``: the query's locale filter (None: every locale)."""
        return PostgresQuery(parsed, groups, self.present_configs(cursor, locales))

    def load_vocabulary(self, terms, entries) -> Vocabulary:
        return Vocabulary(terms.values_list("term", flat=True))

    def present_configs(self, cursor, locales: list[str] | None = None) -> list[str]:
        """Text search configs of the indexed items (of ``locales`` if given).

        Each config costs the query one GIN scan, so configs no item uses are skipped; the set
        is re-read when the index changes (the vocabulary generation)."""
        generation = cache.get(GENERATION_KEY, 0)
        if self._configs is None or self._configs[0] != generation:
            cursor.execute(f"SELECT DISTINCT ts_config FROM {ENTRY}")  # noqa: S608
            self._configs = (generation, sorted(row[0] for row in cursor.fetchall()))
        present = self._configs[1]
        if locales:
            wanted = {ts_config_for(locale) for locale in locales}
            return [c for c in present if c in wanted]
        return present

    def finish_rebuild(self, cursor) -> None:
        """Inside the rebuild's transaction: fresh statistics. With the empty-table estimates
        the planner evaluates the text match row by row (detoasting every document: 2.5 s at
        100k items) instead of reading the GIN index."""
        cursor.execute(f"ANALYZE {ENTRY}, {TEXT}, {CHAIN}")

    def after_rebuild(self, connection) -> None:
        """After the rebuild committed. The trigger that fills the tsvectors updates each new
        entry row once, leaving as many dead rows as live ones, and the GIN indexes hold the new
        entries in their pending lists (read sequentially by every search) until a vacuum:
        without this, searches after a rebuild at 100k items take 3-5× longer until autovacuum
        comes. (VACUUM cannot run inside a transaction; tests rebuild inside one.)"""
        if connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {ENTRY}, {TEXT}")

    def suggest(self, cursor, typed: list[str], where: str, params: list, limit: int):
        """(id, title) of visible items whose title has words starting with every ``typed``,
        newest first."""
        conditions, likes = [], []
        for w in typed:
            # A word starts at the beginning or after any non-alphanumeric character (a space,
            # but also a quote or a bracket: 'Tom's "Zephyr"' is suggested for "zeph").
            conditions.append(f"lower({TEXT}.title) ~ %s")
            likes.append(f"(^|[^[:alnum:]]){re.escape(w)}")
        cursor.execute(
            f"SELECT {ENTRY}.id, {TEXT}.title FROM {ENTRY} "  # noqa: S608
            f"JOIN {TEXT} ON {TEXT}.id = {ENTRY}.id "
            f"WHERE {' AND '.join(conditions)} AND {where} "
            f"ORDER BY {ENTRY}.last_published_at DESC LIMIT %s",
            [*likes, *params, limit],
        )
        return cursor.fetchall()

    def lock_drains(self, cursor) -> None:
        """Serialise search outbox drains: a transaction-level advisory lock."""
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DRAIN_LOCK_KEY])


class PostgresQuery:
    """One search's statements on PostgreSQL (see ``backend.SearchBackend.search``)."""

    lower_is_better = False  # ts_rank: higher is better

    # Planner settings for this search's statements (transaction-local, put back afterwards).
    # The planner does not count detoasting a row's tsvector when it costs a plan that tests
    # ``@@`` row by row, so it picks them wrongly: a sequential scan (29 ms instead of 0.6 ms
    # for a 34-match query at 10k items) or a walk of the primary key over an id window
    # (60 ms instead of 11 ms at 100k). Without plain index and sequential scans only bitmap
    # plans remain: the GIN index, ANDed with the id window. Parallel workers cost more to
    # start than these queries take.
    PLANNER = {
        "enable_seqscan": "off",
        "enable_indexscan": "off",
        "max_parallel_workers_per_gather": "0",
    }

    @contextmanager
    def planner(self, cursor):
        names = list(self.PLANNER)
        set_all = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in names)
        with transaction.atomic(using=cursor.db.alias):
            # The newest id first: its index-only scan is a plain index scan to the planner.
            cursor.execute(
                f"SELECT (SELECT max(id) FROM {ENTRY}), "  # noqa: S608
                + ", ".join(f"current_setting('{name}')" for name in names)
            )
            ceiling, *previous = cursor.fetchone()
            self.ceiling = ceiling or 0
            cursor.execute(set_all, [self.PLANNER[name] for name in names])
            try:
                yield
            finally:
                cursor.execute(set_all, previous)

    def __init__(self, parsed: ParsedQuery, groups: list[list[str]], configs: list[str]) -> None:
        parts = ["(" + " | ".join(group) + ")" for group in groups]
        parts += ["(" + " <-> ".join(phrase) + ")" for phrase in parsed.phrases]
        self.tsquery = " & ".join(parts)
        self.configs = configs or ["simple"]
        self.ceiling = 0

    def _union(self, select: str, vector: str, where: str, params: list) -> tuple[str, list]:
        # One branch per language config in use: each parses the query once (a FROM-clause
        # function) and reads the GIN index with a constant query; one table, no join.
        branches, branch_params = [], []
        for config in self.configs:
            branches.append(
                f"SELECT {select} FROM {ENTRY}, to_tsquery(%s::regconfig, %s) AS tq "  # noqa: S608
                f"WHERE {ENTRY}.ts_config = %s AND {ENTRY}.{vector} @@ tq AND {where}"
            )
            branch_params += [config, self.tsquery, config, *params]
        return " UNION ALL ".join(branches), branch_params

    # The "+ 0" in the ORDER BY clauses below keeps the planner off the lazy plan "walk the id
    # (or date) index backwards and test each row's document": that plan detoasts every row it
    # looks at (44 ms at 100k items) where the GIN bitmap plus a sort of the matches takes a few.

    def matches(self, cursor, where: str, params: list, n: int) -> tuple[list[tuple], None]:
        """The newest n visible matches: (id, facet columns…), newest first (and no scores)."""
        # No ranking here (ts_rank detoasts each row's document; ``scores`` ranks only the rows
        # a page needs). Newest ids first, in windows of 10 ids per wanted row: the GIN bitmap
        # is ANDed with an id range of the primary key, so only matches inside the window are
        # read from the table (12 instead of 42 ms for the broadest benchmark query at 100k
        # items; PostgreSQL stops ANDing once a range covers a fifth of the table or so, hence
        # small windows).
        # When the first window holds a third of what is wanted, the next ones follow (up to
        # three); otherwise, and when they do not suffice, the query runs over all ids. The
        # result is the same either way: the newest n visible matches.
        ceiling = self.ceiling  # read by ``planner``
        window = 10 * n
        rows: list[tuple] = []
        for _ in range(3):
            floor = ceiling - window
            if floor <= 0:
                break
            rows += self._newest(cursor, where, params, n - len(rows), floor, ceiling)
            if len(rows) >= n or len(rows) * 3 < n:  # done, or three windows would not do
                break
            ceiling = floor
        if len(rows) < n:
            rows = self._newest(cursor, where, params, n, None, None)
        return rows, None

    def _newest(self, cursor, where: str, params: list, n: int, floor, ceiling) -> list[tuple]:
        """The newest n visible matches with floor < id <= ceiling (None: no bound)."""
        if floor is not None:
            where = f"{where} AND {ENTRY}.id > {int(floor)} AND {ENTRY}.id <= {int(ceiling)}"
        union, union_params = self._union(f"{ENTRY}.id, {FACET_COLUMNS}", "document", where, params)
        cursor.execute(
            f"SELECT * FROM ({union}) AS m ORDER BY m.id + 0 DESC LIMIT %s",  # noqa: S608
            [*union_params, n],
        )
        return cursor.fetchall()

    def head_matches(self, cursor, where: str, params: list, n: int) -> list[tuple[int, float]]:
        """Visible matches in title, product name or tags: (id, ts_rank of that match)."""
        union, union_params = self._union(
            f"{ENTRY}.id, ts_rank({ENTRY}.head, tq)", "head", where, params
        )
        cursor.execute(
            f"SELECT * FROM ({union}) AS m ORDER BY m.id + 0 DESC LIMIT %s",  # noqa: S608
            [*union_params, n],
        )
        return cursor.fetchall()

    def scores(self, cursor, ids: list[int]) -> dict[int, float]:
        """ts_rank of the items ``ids`` (matches of this query), by id."""
        if not ids:
            return {}
        branches, branch_params = [], []
        for config in self.configs:
            branches.append(
                f"SELECT {ENTRY}.id, ts_rank({ENTRY}.document, tq) FROM {ENTRY}, "  # noqa: S608
                f"to_tsquery(%s::regconfig, %s) AS tq "
                f"WHERE {ENTRY}.ts_config = %s AND {ENTRY}.id = ANY(%s)"
            )
            branch_params += [config, self.tsquery, config, list(ids)]
        cursor.execute(" UNION ALL ".join(branches), branch_params)
        return dict(cursor.fetchall())

    def newest(self, cursor, where: str, params: list, n: int) -> list[tuple]:
        union, union_params = self._union(
            f"{ENTRY}.id, {ENTRY}.last_published_at, {FACET_COLUMNS}", "document", where, params
        )
        cursor.execute(
            f"SELECT * FROM ({union}) AS m "  # noqa: S608
            "ORDER BY m.last_published_at + interval '0 seconds' DESC NULLS LAST, m.id + 0 DESC "
            "LIMIT %s",
            [*union_params, n],
        )
        return cursor.fetchall()

    def highlight(self, cursor, hits: list[SearchHit]) -> None:
        # In Python too, like SQLite, but with PostgreSQL's own lexemes (lexemes.py).
        highlight_hits(cursor, hits, LexemeHighlighters(self.tsquery))
