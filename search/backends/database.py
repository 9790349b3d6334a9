"""Database search backend: SQLite FTS5 on SQLite (the embedded default), PostgreSQL full-text
search with per-language configs on PostgreSQL.

Both query the full-text index directly, joined with the narrow entry row that carries the
audience columns, so a search costs one index lookup per query (not Wagtail's correlated
re-match). Typo tolerance comes from a term vocabulary matched by trigrams and edit distance
(search/fuzzy.py), expanded into an OR of the close terms before the query reaches the database.

Bounded work: a query reads at most ``PORTAL_SEARCH_EXACT_LIMIT`` visible matches (the most
recently created ones, found lazily in rowid order) plus the visible matches in titles and product
names (a small index of its own). Counts, facets and ranking cover those; when there are more,
the result says so (``total_exact`` False, shown as "1,000+"). Without the bound a query's cost
grows with the number of items that match it, i.e. with the catalogue.
"""

from __future__ import annotations

import heapq
import re
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager, nullcontext
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Exists, OuterRef, Q

from permissions.policies.rule import tokens
from permissions.policies.search import SearchFilter

from ..documents import SearchDocument
from ..fuzzy import GENERATION_KEY, Vocabulary, VocabularyCache, bump_generation
from ..models import SearchChainNode, SearchEntry, SearchTerm, SearchText
from .base import (
    BaseSearchBackend,
    Highlighter,
    ParsedQuery,
    ProgressCallback,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
    normalise,
    parse_query,
    words,
)

ENTRY = SearchEntry._meta.db_table
TEXT = SearchText._meta.db_table
SNIPPET_SCAN = 6000  # characters of body / file text a snippet is looked for in (SQLite)


# The vocabulary of a fresh SQLite index, with each word's document count, from FTS5's own
# (the same words the tokenizer indexed; migration 0004 runs the same statement).
SQLITE_VOCABULARY = f"""
INSERT OR IGNORE INTO {SearchTerm._meta.db_table} (term, documents)
SELECT term, doc FROM portal_search_vocab
WHERE length(term) > 2 AND length(term) <= 60 AND term GLOB '*[^0-9]*'
"""  # noqa: S608


def language_settings(language: str) -> dict:
    languages = getattr(settings, "PORTAL_SEARCH_LANGUAGES", {})
    return languages.get(language) or languages.get("*") or {}


def ts_config_for(language: str) -> str:
    return language_settings(language).get("postgres", "simple")


# --- the entitlement, translated for the entry table ----------------------------------------------


def _rule_q(flt: SearchFilter, *, rank: str, regions: str, types: str) -> Q:
    rank_q = Q(**{f"{rank}__isnull": True}) | Q(**{f"{rank}__lte": flt.tier_rank or 0})
    region_q = Q(**{f"{regions}__isnull": True})
    for region_id in sorted(flt.region_ids):
        region_q |= Q(**{f"{regions}__contains": f"|{region_id}|"})
    type_q = Q(**{f"{types}__isnull": True})
    if flt.type_id is not None:
        type_q |= Q(**{f"{types}__contains": f"|{flt.type_id}|"})
    return rank_q & region_q & type_q


def entitlement_q(flt: SearchFilter) -> Q:
    """``flt`` (built by permissions/) as a filter on SearchEntry."""
    if flt.scope == "none":
        return Q(pk__in=[])
    base = Q(live=True)
    if flt.scope == "all":
        return base
    if flt.scope == "public":
        return base & Q(eff_public=True)
    org = f"|{flt.org_id}|"
    rule = _rule_q(flt, rank="eff_min_rank", regions="eff_regions", types="eff_types")
    if flt.has_grants:
        granted = Q(granted_orgs__contains=org)
        blocking = (
            SearchChainNode.objects.filter(entry_id=OuterRef("pk"))
            .exclude(_rule_q(flt, rank="min_rank", regions="regions", types="types"))
            .exclude(granted__contains=org)
        )
        # Q combined with a conditional expression is a Q (Q._combine); the stubs say Combinable.
        rule = cast(Q, (~granted & rule) | (granted & ~Exists(blocking)))
    q = base & rule
    if flt.has_exceptions:
        q &= ~Q(excepted_orgs__contains=org)
    return q


def facet_q(filters: dict[str, list[str]]) -> Q:
    q = Q()
    for name, values in filters.items():
        values = [v for v in values if v]
        if not values:
            continue
        if name == "kind":
            q &= Q(kind__in=values)
        elif name == "locale":
            q &= Q(locale__in=values)
        elif name == "product":
            q &= Q(product_key__in=values)
        elif name == "tags":
            tag_q = Q()
            for tag in values:
                tag_q |= Q(tags__contains=f"|{tag}|")
            q &= tag_q
    return q


def _tokens_or_none(value) -> str | None:
    return None if value is None else tokens(value)


class SearchBackend(BaseSearchBackend):
    name = "database"

    def __init__(self, params: dict | None = None) -> None:
        super().__init__(params)
        self.using = self.params.get("DATABASE", "default")
        self._vocabulary = VocabularyCache(self._load_vocabulary)
        # Compiled WHERE clauses per (entitlement, filters): compiling the ORM expression costs
        # more than the query for small result sets, and the same asker repeats it.
        self._where_cache: OrderedDict = OrderedDict()
        self._configs: tuple[object, list[str]] | None = None

    @property
    def connection(self):
        return connections[self.using]

    @property
    def vendor(self) -> str:
        return self.connection.vendor

    @property
    def exact_limit(self) -> int:
        return int(self.params.get("EXACT_LIMIT") or settings.PORTAL_SEARCH_EXACT_LIMIT)

    # --- writes ----------------------------------------------------------------------------
    def _entry(self, doc: SearchDocument) -> SearchEntry:
        aud = doc.audience
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
            eff_public=aud.public,
            eff_min_rank=aud.min_rank,
            eff_regions=_tokens_or_none(aud.regions),
            eff_types=_tokens_or_none(aud.types),
            excepted_orgs=tokens(aud.excepted_org_ids),
            granted_orgs=tokens(aud.granted_org_ids),
        )

    @staticmethod
    def _text(doc: SearchDocument) -> SearchText:
        return SearchText(
            entry_id=doc.id,
            ts_config=ts_config_for(doc.locale),
            title=doc.title,
            summary=doc.summary,
            product=doc.product_text,
            body=doc.body,
            attachments=doc.attachments,
        )

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
        nodes = [
            SearchChainNode(
                entry_id=d.id,
                min_rank=node.min_rank,
                regions=_tokens_or_none(node.regions),
                types=_tokens_or_none(node.types),
                granted=tokens(node.granted_org_ids),
            )
            for d in docs
            if d.audience.granted_org_ids  # only grant holders are checked node by node
            for node in d.audience.chain
        ]
        SearchChainNode.objects.using(self.using).bulk_create(nodes, batch_size=500)
        if self.vendor == "postgresql" or not rebuilding:
            # (A SQLite rebuild fills the vocabulary from FTS5's own at the end, with counts.)
            vocabulary = {
                w
                for d in docs
                for w in words(" ".join((d.title, d.summary, d.product_text, d.body)))
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
            for table in (SearchChainNode._meta.db_table, TEXT, ENTRY):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our table names
            cursor.execute(f"DELETE FROM {SearchTerm._meta.db_table}")  # noqa: S608
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
            if self.vendor == "sqlite":
                for table in ("portal_search_fts", "portal_search_head"):
                    cursor.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
                cursor.execute(SQLITE_VOCABULARY)
            else:
                # Fresh statistics: with the empty-table estimates the planner evaluates the
                # text match row by row (detoasting every document: 2.5 s at 100k items)
                # instead of reading the GIN index.
                cursor.execute(f"ANALYZE {ENTRY}, {TEXT}, {SearchChainNode._meta.db_table}")
        if self.vendor == "postgresql" and not self.connection.in_atomic_block:
            # The trigger that fills the tsvectors updates each new entry row once, leaving as
            # many dead rows as live ones, and the GIN indexes hold the new entries in their
            # pending lists (read sequentially by every search) until a vacuum: without this,
            # searches after a rebuild at 100k items take 3-5× longer until autovacuum comes.
            # (VACUUM cannot run inside a transaction; tests rebuild inside one.)
            with self.connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {ENTRY}, {TEXT}")
        bump_generation()
        return count

    # --- vocabulary -------------------------------------------------------------------------
    def _load_vocabulary(self) -> Vocabulary:
        """The vocabulary table (re-read in each process after every index change, so it must
        stay cheap: FTS5's own ``fts5vocab`` took 1.4 s at 100k items, it scans the index)."""
        terms = SearchTerm.objects.using(self.using)
        if self.vendor == "sqlite":
            counts = dict(terms.values_list("term", "documents"))
            return Vocabulary(counts, counts, SearchEntry.objects.using(self.using).count())
        return Vocabulary(terms.values_list("term", flat=True))

    def present_configs(self, locales: list[str] | None = None) -> list[str]:
        """PostgreSQL text search configs of the indexed items (of ``locales`` if given).

        Each config costs the query one GIN scan, so configs no item uses are skipped; the set
        is re-read when the index changes (the vocabulary generation)."""
        generation = cache.get(GENERATION_KEY, 0)
        if self._configs is None or self._configs[0] != generation:
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT DISTINCT ts_config FROM {ENTRY}")  # noqa: S608
                self._configs = (generation, sorted(row[0] for row in cursor.fetchall()))
        present = self._configs[1]
        if locales:
            wanted = {ts_config_for(locale) for locale in locales}
            return [c for c in present if c in wanted]
        return present

    # --- reads ------------------------------------------------------------------------------
    def _where(self, flt: SearchFilter, filters: dict[str, list[str]]) -> tuple[str, list]:
        key = (flt, tuple(sorted((name, tuple(values)) for name, values in filters.items())))
        cached = self._where_cache.get(key)
        if cached is None:
            qs = SearchEntry.objects.using(self.using).filter(entitlement_q(flt) & facet_q(filters))
            compiler = qs.query.get_compiler(using=self.using)
            sql, params = qs.query.where.as_sql(compiler, self.connection)
            cached = ((sql or "1=1"), tuple(params))
            self._where_cache[key] = cached
            if len(self._where_cache) > 512:
                self._where_cache.popitem(last=False)
        return cached[0], list(cached[1])

    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        if parsed.empty or query.entitlement.scope == "none":
            return SearchResult(total=0, hits=[], facets={}, backend=self.name)
        # One vocabulary read per search (it checks the index generation in the shared cache).
        vocabulary = self._vocabulary.get()
        # Each query term with its close vocabulary terms (typo tolerance).
        groups = [vocabulary.expand(term) for term in parsed.terms]
        where, where_params = self._where(query.entitlement, query.filters)
        impl: _SQLite | _Postgres
        if self.vendor == "sqlite":
            impl = _SQLite(self, parsed, groups, vocabulary.estimate(groups, parsed.phrases))
        else:
            impl = _Postgres(
                self, parsed, groups, self.present_configs(query.filters.get("locale"))
            )
        with self.connection.cursor() as cursor, impl.planner(cursor):
            if query.sort == "date":
                rows = impl.newest(cursor, where, where_params, self.exact_limit + 1)
                result = _date_result(rows, query, self.exact_limit)
            else:
                result = self._relevance(impl, cursor, query, where, where_params)
            if query.highlight and result.hits:
                impl.highlight(cursor, result.hits)
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
        ranked: list[tuple[int, int, float]] = []  # (id, tier, score)
        if not exact:
            # Beyond the bound, items matching in the title, product name or tags come first
            # (ranked by that match), however old: "X1 datasheet" must not drown in the 1,000
            # newest mentions of X1. Scoring them against the full index instead would re-read
            # every doclist of the query per item (2 ms each at 100k items).
            ranked = [(i, 0, score) for i, score in impl.head_matches(cursor, where, params, limit)]
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
        where, params = self._where(entitlement, {})
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                match = "title : (" + " AND ".join(f'"{w}" *' for w in typed) + ")"
                cursor.execute(
                    f"SELECT {ENTRY}.id, {TEXT}.title FROM portal_search_head "  # noqa: S608
                    f"JOIN {ENTRY} ON {ENTRY}.id = portal_search_head.rowid "
                    f"JOIN {TEXT} ON {TEXT}.id = {ENTRY}.id "
                    f"WHERE portal_search_head MATCH %s AND {where} "
                    "ORDER BY bm25(portal_search_head) LIMIT %s",
                    [match, *params, limit],
                )
            else:
                conditions, likes = [], []
                for w in typed:
                    conditions.append(
                        f"(lower({TEXT}.title) LIKE %s OR lower({TEXT}.title) LIKE %s)"
                    )
                    likes += [f"{w}%", f"% {w}%"]
                cursor.execute(
                    f"SELECT {ENTRY}.id, {TEXT}.title FROM {ENTRY} "  # noqa: S608
                    f"JOIN {TEXT} ON {TEXT}.id = {ENTRY}.id "
                    f"WHERE {' AND '.join(conditions)} AND {where} "
                    f"ORDER BY {ENTRY}.last_published_at DESC LIMIT %s",
                    [*likes, *params, limit],
                )
            return [Suggestion(id=row[0], title=row[1]) for row in cursor.fetchall()]


def _facets(rows) -> dict[str, dict[str, int]]:
    """Facet counts over ``rows``: (…, kind, locale, product_key, tags), the last four columns."""
    facets: dict[str, dict[str, int]] = {"kind": {}, "product": {}, "locale": {}, "tags": {}}
    for row in rows:
        kind, locale, product_key, tag_tokens = row[-4:]
        facets["kind"][kind] = facets["kind"].get(kind, 0) + 1
        facets["locale"][locale] = facets["locale"].get(locale, 0) + 1
        if product_key:
            facets["product"][product_key] = facets["product"].get(product_key, 0) + 1
        if tag_tokens and tag_tokens != "|":
            for tag in tag_tokens.strip("|").split("|"):
                facets["tags"][tag] = facets["tags"].get(tag, 0) + 1
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


_COLUMNS = f"{ENTRY}.kind, {ENTRY}.locale, {ENTRY}.product_key, {ENTRY}.tags"


class _SQLite:
    lower_is_better = True

    @staticmethod
    def planner(cursor):
        return nullcontext()

    def __init__(
        self,
        backend: SearchBackend,
        parsed: ParsedQuery,
        groups: list[list[str]],
        estimate: float | None = None,
    ):
        from ..documents import FIELD_BOOSTS

        self.backend = backend
        self.estimate = estimate  # expected matches (Vocabulary.estimate), None: unknown
        parts = ["(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in groups]
        parts += ['"' + " ".join(phrase) + '"' for phrase in parsed.phrases]
        self.match = " AND ".join(parts)
        self.terms = {t for group in groups for t in group} | {
            w for phrase in parsed.phrases for w in phrase
        }
        self.weights = ", ".join(
            str(FIELD_BOOSTS[c]) for c in ("title", "summary", "product", "body", "attachments")
        )
        self.head_weights = f"{FIELD_BOOSTS['title']}, {FIELD_BOOSTS['product']}"

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
            columns = f"{ENTRY}.id, bm25(portal_search_fts, {self.weights}), {_COLUMNS}"
            rows = self._newest_matches(cursor, "portal_search_fts", columns, where, params, n)
            return [(r[0], *r[2:]) for r in rows], {r[0]: r[1] for r in rows}
        columns = f"{ENTRY}.id, {_COLUMNS}"
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
            f"SELECT {ENTRY}.id, {ENTRY}.last_published_at, {_COLUMNS} FROM {ENTRY} "  # noqa: S608
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
        _highlight_hits(cursor, hits, lambda _cursor, texts: dict.fromkeys(texts, highlighter))


def _highlight_hits(cursor, hits: list[SearchHit], highlighters) -> None:
    """Title highlights and snippets for ``hits``, computed in Python over their text.

    ``highlighters(cursor, texts)`` gets {ts_config: [text, …]} and returns a Highlighter per
    config. The snippet comes from the start of the page text (like a search engine's first
    fragment); from the files only when the page text has no match."""
    by_id = {hit.id: hit for hit in hits}
    rows = _text_rows(
        cursor, f"ts_config, title, summary || ' ' || substr(body, 1, {SNIPPET_SCAN})", by_id
    )
    texts: dict[str, list[str]] = {}
    for _id, config, title, text in rows:
        texts.setdefault(config, []).extend((title, text))
    marker = highlighters(cursor, texts)
    without = {}
    for item_id, config, title, text in rows:
        hit = by_id[item_id]
        hit.title_highlight = marker[config].mark(title)
        hit.snippet = marker[config].snippet(text)
        if not hit.snippet:
            without[item_id] = config
    if without:
        files = _text_rows(cursor, f"substr(attachments, 1, {SNIPPET_SCAN})", without)
        texts = {}
        for item_id, attachments in files:
            texts.setdefault(without[item_id], []).append(attachments)
        marker = highlighters(cursor, texts)
        for item_id, attachments in files:
            by_id[item_id].snippet = marker[without[item_id]].snippet(attachments)


def _text_rows(cursor, columns: str, ids) -> list[tuple]:
    """(id, *columns) of the SearchText rows of ``ids``."""
    marks = ", ".join(["%s"] * len(ids))
    cursor.execute(
        f"SELECT id, {columns} FROM {TEXT} WHERE id IN ({marks})",  # noqa: S608
        list(ids),
    )
    return cursor.fetchall()


class _Postgres:
    lower_is_better = False

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

    def __init__(
        self,
        backend: SearchBackend,
        parsed: ParsedQuery,
        groups: list[list[str]],
        configs: list[str],
    ):
        self.backend = backend
        parts = ["(" + " | ".join(group) + ")" for group in groups]
        parts += ["(" + " <-> ".join(phrase) + ")" for phrase in parsed.phrases]
        self.tsquery = " & ".join(parts)
        self.configs = configs or ["simple"]
        self.ceiling = 0
        self._query_lexemes: dict[str, set[str]] = {}  # per config (highlighting)

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
        union, union_params = self._union(f"{ENTRY}.id, {_COLUMNS}", "document", where, params)
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
            f"{ENTRY}.id, {ENTRY}.last_published_at, {_COLUMNS}", "document", where, params
        )
        cursor.execute(
            f"SELECT * FROM ({union}) AS m "  # noqa: S608
            "ORDER BY m.last_published_at + interval '0 seconds' DESC NULLS LAST, m.id + 0 DESC "
            "LIMIT %s",
            [*union_params, n],
        )
        return cursor.fetchall()

    def highlight(self, cursor, hits: list[SearchHit]) -> None:
        # In Python too, like SQLite, but with PostgreSQL's own lexemes: a word is marked when
        # the item's text search config turns it into a lexeme of the query (so "guides" marks
        # "guide" in English, and stop words mark nothing). ts_headline did the same in the
        # database at 8-10 ms per page of 20 hits (it parses each text in full); the lexemes of
        # words already seen come from a per-process cache.
        _highlight_hits(cursor, hits, self._highlighters)

    def _highlighters(self, cursor, texts: dict[str, list[str]]) -> dict[str, Highlighter]:
        missing = sorted(set(texts) - set(self._query_lexemes))
        if missing:
            cursor.execute(
                "SELECT c, to_tsquery(c::regconfig, %s)::text FROM unnest(%s::text[]) AS c",
                [self.tsquery, missing],
            )
            for config, text in cursor.fetchall():
                found = _TSQUERY_LEXEME.findall(text)
                self._query_lexemes[config] = {m.replace("''", "'") for m in found}
        for config, chunks in texts.items():
            seen = set(_WORD.findall(" ".join(chunks).lower()))
            unknown = sorted(seen - _LEXEMES.setdefault(config, {}).keys())
            if unknown:
                cursor.execute(
                    "SELECT w, tsvector_to_array(to_tsvector(%s::regconfig, w)) "
                    "FROM unnest(%s::text[]) AS w",
                    [config, unknown],
                )
                _remember_lexemes(config, cursor.fetchall())
        # Every word seen so far that has one of the query's lexemes (more than these texts
        # hold does no harm: the highlighter marks only what is there).
        return {
            config: Highlighter(
                {
                    w
                    for lexeme in self._query_lexemes[config]
                    for w in _WORDS_BY_LEXEME.get((config, lexeme), ())
                }
            )
            for config in texts
        }


def _remember_lexemes(config: str, rows) -> None:
    known = _LEXEMES.setdefault(config, {})
    if len(known) > 200_000:  # a bound on memory; it refills from use
        known.clear()
        for key in [k for k in _WORDS_BY_LEXEME if k[0] == config]:
            del _WORDS_BY_LEXEME[key]
    for word, lexemes in rows:
        known[word] = frozenset(lexemes)
        for lexeme in lexemes:
            _WORDS_BY_LEXEME.setdefault((config, lexeme), set()).add(normalise(word))


_TSQUERY_LEXEME = re.compile(r"'((?:[^']|'')*)'")
_WORD = re.compile(r"\w+")
# Per process: config -> {word: the word's lexemes}, and (config, lexeme) -> normalised words.
_LEXEMES: dict[str, dict[str, frozenset[str]]] = {}
_WORDS_BY_LEXEME: dict[tuple[str, str], set[str]] = {}


__all__ = ["SearchBackend", "entitlement_q", "normalise"]
