"""Elasticsearch 8 backend: ``elasticsearch.dsl`` Documents, one index per content locale.

* Each locale's index uses the analyzer that ``PORTAL_SEARCH_LANGUAGES`` gives its language
  (english, german, french by default; other languages: standard + asciifolding, "folding").
* Writes and searches go through aliases (``<prefix>-items-<locale>``) over versioned index
  names (``<prefix>-items-<locale>-<version>``); ``rebuild`` fills new indexes and swaps every
  alias in one ``update_aliases`` call, so searches never see a half-built index.
* The asker's entitlement (``permissions.policies.SearchFilter``) becomes bool filters on the
  indexed audience fields; items whose chain carries a grant are checked node by node through the
  nested ``chain`` field. Never a list of item ids.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    InnerDoc,
    Integer,
    Keyword,
    Nested,
    Q,
    SearchAsYouType,
    Text,
    analyzer,
    token_filter,
)
from elasticsearch.dsl import Search as DslSearch

from permissions.policies.search import SearchFilter

from ..documents import SearchDocument
from ..fields import (
    AUTOCOMPLETE_FIELDS,
    FACETS,
    FIELD_BOOSTS,
    FILTER_FIELDS,
    HEAD_FIELDS,
    TEXT_FIELDS,
    filter_values,
    text_values,
)
from ..highlight import MARK_END, MARK_START
from ..query import compounding, language_settings, parse_query, words
from ..transport import node_class_for
from .base import (
    BaseSearchBackend,
    ProgressCallback,
    SearchBackendError,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
)

if TYPE_CHECKING:
    from elasticsearch.dsl.query import Query

logger = logging.getLogger("portal.search")

folding = analyzer("folding", tokenizer="standard", filter=["lowercase", "asciifolding"])
# Compound parts, for languages configured with "compounds" (German: "Blatt" finds
# "Datenblatt"): every ending of 5+ letters of each folded word is indexed in a "parts"
# sub-field (reverse, edge n-grams, reverse), which the query's whole words (folding, not split)
# are matched against. German puts a compound's head last, so endings, not every piece. The
# engine's dictionary_decompounder would be more precise, but osmem-server ignores it.
PART_MIN, PART_MAX = 5, 40
compound_parts = analyzer(
    "compound_parts",
    tokenizer="standard",
    filter=[
        "lowercase",
        "asciifolding",
        "reverse",
        token_filter("word_endings", "edge_ngram", min_gram=PART_MIN, max_gram=PART_MAX),
        "reverse",
    ],
)
# Text fields that get the "parts" sub-field (body and attachments would multiply the index).
COMPOUND_FIELDS = ("title", "summary", "product")
# A query word must be this long to be matched against compound parts (the shortest indexed).
COMPOUND_QUERY_MIN = PART_MIN
# Boosts of the query's parts: a compound-piece match counts less than a whole word; the
# "head" clause (every query word in the title or product text) lifts those items above every
# item matching only elsewhere, as the database backend's tiers do.
COMPOUND_BOOST = 0.5
HEAD_BOOST = 100.0
# The head fields, as the database backend's small index has them.
HEAD_TEXT_FIELDS = HEAD_FIELDS
# Words as typed (typo candidates): every text field copied into one folded field.
SPELL_FIELD = "spell"


def _language_settings(language: str) -> dict:
    return language_settings(language)


def analyzer_for(language: str, *, fallback: bool = False):
    """The analyzer of ``language``'s text fields (``PORTAL_SEARCH_LANGUAGES``); with
    ``fallback``, the one to use where the engine lacks it (default ``folding``)."""
    config = _language_settings(language)
    name = config.get("fallback", "folding") if fallback else config.get("analyzer", "folding")
    return folding if name == "folding" else name


def _unknown_analyzer(exc: Exception) -> bool:
    """Did the engine refuse an index because it does not know an analyzer? (Elasticsearch
    without a language plugin, or osmem-server, which lacks czech, polish, dutch.)"""
    text = str(exc).lower()
    return "analyzer" in text and any(
        word in text
        for word in (
            "not been configured",
            "not found",
            "failed to find",
            "unknown",
            "not supported",
        )
    )


class ChainNode(InnerDoc):
    min_rank = Integer()
    regions = Keyword()
    regions_all = Boolean()
    types = Keyword()
    types_all = Boolean()
    granted = Keyword()


# Mapping types of the filter fields (search/fields.py).
_FILTER_TYPES = {"keyword": Keyword, "date": Date, "boolean": Boolean}


def _suggest_name(field_name: str) -> str:
    return f"{field_name}_suggest"


def document_class(language: str, *, fallback: bool = False) -> type[Document]:
    """The Document (mapping) of one locale's index, built from search/fields.py: text fields
    use that language's analyzer (its fallback with ``fallback``); the audience fields are this
    backend's form of the rule."""
    language_analyzer = analyzer_for(language, fallback=fallback)
    compounds = bool(_language_settings(language).get("compounds"))

    def text(name: str):
        # The language analyzer stems; the "folded" sub-field keeps whole words so fuzzy matching
        # compares what the user typed with real words ("gide" → "guide", not the stem "guid").
        fields = {"folded": Text(analyzer=folding)}
        if compounds and name in COMPOUND_FIELDS:
            fields["parts"] = Text(analyzer=compound_parts, search_analyzer=folding)
        return Text(analyzer=language_analyzer, fields=fields, copy_to=SPELL_FIELD)

    attributes: dict = {field.field_name: text(field.field_name) for field in TEXT_FIELDS}
    attributes[SPELL_FIELD] = Text(analyzer=folding)
    for field in AUTOCOMPLETE_FIELDS:
        attributes[_suggest_name(field.field_name)] = SearchAsYouType(analyzer=folding)
    for field in FILTER_FIELDS:
        attributes[field.field_name] = _FILTER_TYPES[field.kwargs["type"]]()
    attributes.update(
        eff_public=Boolean(),
        eff_min_rank=Integer(),
        eff_regions=Keyword(),
        eff_regions_all=Boolean(),
        eff_types=Keyword(),
        eff_types_all=Boolean(),
        excepted_orgs=Keyword(),
        granted_orgs=Keyword(),
        chain=Nested(ChainNode),
    )
    return type("ItemDocument", (Document,), attributes)


def _ids(values) -> list[str]:
    return [str(v) for v in sorted(values or ())]


def to_source(doc: SearchDocument) -> dict:
    aud = doc.audience
    source = {
        **text_values(doc),
        **{
            _suggest_name(field.field_name): getattr(doc, field.field_name)
            for field in AUTOCOMPLETE_FIELDS
        },
        **{
            name: list(value) if isinstance(value, list | tuple) else value
            for name, value in filter_values(doc).items()
        },
        "eff_public": aud.public,
        "eff_min_rank": aud.min_rank,
        "eff_regions": _ids(aud.regions),
        "eff_regions_all": aud.regions is None,
        "eff_types": _ids(aud.types),
        "eff_types_all": aud.types is None,
        "excepted_orgs": _ids(aud.excepted_org_ids),
        "granted_orgs": _ids(aud.granted_org_ids),
        "chain": [
            {
                "min_rank": node.min_rank,
                "regions": _ids(node.regions),
                "regions_all": node.regions is None,
                "types": _ids(node.types),
                "types_all": node.types is None,
                "granted": _ids(node.granted_org_ids),
            }
            for node in (aud.chain if aud.granted_org_ids else ())
        ],
    }
    return source


# --- the entitlement, translated into engine filters -------------------------------------------


def _rule(flt: SearchFilter, prefix: str) -> Query:
    rank = Q("bool", must_not=[Q("exists", field=f"{prefix}min_rank")]) | Q(
        "range", **{f"{prefix}min_rank": {"lte": flt.tier_rank or 0}}
    )
    region = Q("term", **{f"{prefix}regions_all": True})
    if flt.region_ids:
        region |= Q("terms", **{f"{prefix}regions": _ids(flt.region_ids)})
    ptype = Q("term", **{f"{prefix}types_all": True})
    if flt.type_id is not None:
        ptype |= Q("term", **{f"{prefix}types": str(flt.type_id)})
    return Q("bool", filter=[rank, region, ptype])


def entitlement_query(flt: SearchFilter) -> Query:
    """``flt`` (built by permissions/) as an engine filter."""
    if flt.scope == "none":
        return Q("match_none")
    live = Q("term", live=True)
    if flt.scope == "all":
        return live
    # Not expired at the time of this query (the indexed effective expiry): an item drops out
    # of search at its expiry time, with no reindex.
    expired = Q("range", expire_at={"lte": timezone.now().isoformat()})
    if flt.scope == "public":
        return Q("bool", filter=[live, Q("term", eff_public=True)], must_not=[expired])
    org = str(flt.org_id)
    rule = _rule(flt, "eff_")
    if flt.has_grants:
        granted = Q("term", granted_orgs=org)
        failing_node = Q(
            "nested",
            path="chain",
            query=Q("bool", must_not=[_rule(flt, "chain."), Q("term", **{"chain.granted": org})]),
        )
        rule = Q("bool", filter=[rule], must_not=[granted]) | Q(
            "bool", filter=[granted], must_not=[failing_node]
        )
    must_not = [expired, Q("term", excepted_orgs=org)] if flt.has_exceptions else [expired]
    return Q("bool", filter=[live, rule], must_not=must_not)


def facet_filters(filters: dict[str, list[str]]) -> list[Query]:
    return [
        Q("terms", **{FACETS[name]: [v for v in values if v]})
        for name, values in filters.items()
        if any(values)
    ]


# What a deletion leaves in an index a rebuild is filling: no title, never live.
TOMBSTONE = {"live": False}


def _status(error: dict) -> int | None:
    """The HTTP status of one failed bulk item (``helpers.bulk`` error entries)."""
    for outcome in error.values():
        if isinstance(outcome, dict):
            return outcome.get("status")
    return None


class SearchBackend(BaseSearchBackend):
    name = "elasticsearch"
    catch_indexing_errors = True

    def __init__(self, params: dict | None = None) -> None:
        super().__init__(params)
        self.prefix = self.params.get("INDEX_PREFIX", "portal")
        self.timeout = float(self.params.get("TIMEOUT", 2))
        self.shards = int(self.params.get("SHARDS", 1))
        self.client = self.params.get("CLIENT") or Elasticsearch(
            self.params.get("URLS", ["http://localhost:9200"]),
            node_class=self._node_class(),
            request_timeout=self.timeout,
            retry_on_timeout=False,
            max_retries=0,
        )
        self.languages = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]

    def _node_class(self):
        """``NODE_CLASS`` (a class or its dotted path) if given, else the flavour's
        (``FLAVOR``, default ``PORTAL_SEARCH_FLAVOR``: search/transport.py)."""
        node_class = self.params.get("NODE_CLASS")
        if isinstance(node_class, str):
            return import_string(node_class)
        if node_class is not None:
            return node_class
        return node_class_for(self.params.get("FLAVOR") or settings.PORTAL_SEARCH_FLAVOR)

    # --- names and mappings -------------------------------------------------------------------
    def alias(self, language: str) -> str:
        return f"{self.prefix}-items-{language}"

    def _create_index(self, language: str) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())  # UTC, read by _drop_abandoned_builds
        name = f"{self.alias(language)}-{stamp}-{uuid.uuid4().hex[:6]}"
        for fallback in (False, True):
            index = document_class(language, fallback=fallback)._index.clone(name)
            index.settings(number_of_shards=self.shards, number_of_replicas=0)
            index.document(document_class(language, fallback=fallback))
            try:
                index.create(using=self.client)
            except Exception as exc:  # noqa: BLE001 - the client raises BadRequestError here
                if fallback or not _unknown_analyzer(exc):
                    raise
                # A language analyzer the engine lacks: index the language with its fallback
                # (docs/search.md) rather than not at all; a production cluster with the
                # analyzer gets it.
                logger.warning(
                    "search engine lacks the %r analyzer of language %r; using %r",
                    analyzer_for(language),
                    language,
                    analyzer_for(language, fallback=True),
                )
                continue
            break
        return name

    def ensure_indexes(self) -> None:
        """Create missing locale indexes (with their alias) so writes and searches work."""
        for language in self.languages:
            alias = self.alias(language)
            if not self.client.indices.exists_alias(name=alias):
                name = self._create_index(language)
                self.client.indices.put_alias(index=name, name=alias)

    def building_alias(self, language: str) -> str:
        """Points at the index a running rebuild fills for ``language`` (writes go there too)."""
        return f"{self.alias(language)}-next"

    def _building(self) -> dict[str, list[str]]:
        """language -> indexes running rebuilds are filling (any process); {} when none runs."""
        try:
            found = self.client.indices.get_alias(name=self.building_alias("*"))
        except NotFoundError:
            return {}
        out: dict[str, list[str]] = {}
        for language in self.languages:
            wanted = self.building_alias(language)
            names = sorted(i for i, body in found.items() if wanted in (body.get("aliases") or {}))
            if names:
                out[language] = names
        return out

    def _drop_abandoned_builds(self, older_than_hours: float = 24) -> None:
        """Indexes of rebuilds that died without cleaning up (a killed process) keep their
        ``-next`` alias and would receive every write forever; a rebuild drops those older than
        a day (the index name carries its creation time). Younger ones may belong to a rebuild
        still running elsewhere: both get the writes, and each swaps when done."""
        cutoff = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - older_than_hours * 3600))
        for language, names in self._building().items():
            prefix = self.alias(language) + "-"
            for name in names:
                stamp = name[len(prefix) :].split("-")[0]
                if stamp.isdigit() and stamp < cutoff:
                    logger.warning("dropping an abandoned rebuild's index %s", name)
                    self.client.indices.delete(index=name, ignore_unavailable=True)

    def _search_indexes(self, languages: list[str] | None = None) -> str:
        wanted = [lang for lang in (languages or self.languages) if lang in self.languages]
        return ",".join(self.alias(lang) for lang in (wanted or self.languages))

    # --- writes -------------------------------------------------------------------------------
    def _actions(
        self, docs: Iterable[SearchDocument], index_for, op_type: str = "index"
    ) -> Iterable[dict]:
        for doc in docs:
            yield {"_op_type": op_type, "_index": index_for(doc), "_id": doc.id, **to_source(doc)}

    def bulk(self, documents: Iterable[SearchDocument]) -> int:
        docs = list(documents)
        if not docs:
            return 0
        self.ensure_indexes()
        # Items never change locale (kb.services refuses such moves), so an item's document
        # always lives in its locale's index and a plain index operation replaces it. No forced
        # refresh: the engine's refresh interval makes writes searchable within a second.
        count, _ = helpers.bulk(
            self.client.options(request_timeout=max(self.timeout, 120)),
            self._actions(docs, lambda d: self.alias(d.locale)),
        )
        building = self._building()
        pending: list[tuple[SearchDocument, str]] = []
        if building:
            # A rebuild is running: its new index must get this change too, or the alias swap
            # would lose it. These writes overwrite; the rebuild's own only create, so the
            # newer document wins whichever arrives first.
            for doc in docs:
                for index in building.get(doc.locale, ()):
                    pending.append((doc, index))
            helpers.bulk(
                self.client.options(request_timeout=max(self.timeout, 120)),
                (
                    {"_op_type": "index", "_index": index, "_id": doc.id, **to_source(doc)}
                    for doc, index in pending
                ),
            )
        return count

    def delete(self, item_id: int) -> None:
        try:
            self.client.delete_by_query(
                index=self._search_indexes(),
                query={"ids": {"values": [str(item_id)]}},
                ignore_unavailable=True,
            )
        except NotFoundError:
            pass
        building = self._building()
        if building:
            # A running rebuild may have read the item before it was deleted: a tombstone
            # (no title, never live, so no query matches it) makes its later create fail; the
            # rebuild removes tombstones once it has swapped the aliases.
            helpers.bulk(
                self.client,
                (
                    {"_op_type": "index", "_index": index, "_id": item_id, **TOMBSTONE}
                    for names in building.values()
                    for index in names
                ),
            )

    def refresh(self) -> None:
        self.client.indices.refresh(index=self._search_indexes(), ignore_unavailable=True)

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        """Fill a new index per locale, then swap every alias atomically and drop the old ones.

        While it runs, writes from other processes (publishes, deletes) go to the new indexes
        as well (``building_alias``); its own writes only create, so they never overwrite a
        newer document or a deletion that arrived meanwhile."""
        self._drop_abandoned_builds()
        new = {language: self._create_index(language) for language in self.languages}
        count = 0
        try:
            self.client.indices.update_aliases(
                actions=[
                    {"add": {"index": name, "alias": self.building_alias(language)}}
                    for language, name in new.items()
                ]
            )
            batch: list[SearchDocument] = []

            def flush():
                nonlocal count, batch
                done, errors = helpers.bulk(
                    self.client.options(request_timeout=max(self.timeout, 120)),
                    self._actions(
                        batch,
                        lambda d: new.get(d.locale) or new[self.languages[0]],
                        op_type="create",
                    ),
                    raise_on_error=False,
                )
                failed = [e for e in errors if _status(e) != 409]
                if failed:
                    raise helpers.BulkIndexError(f"{len(failed)} document(s) failed", failed)
                count += done + len(errors)  # a conflict: a newer write got there first
                if progress:
                    progress(len(batch))
                batch = []

            for doc in documents:
                batch.append(doc)
                if len(batch) >= 500:
                    flush()
            if batch:
                flush()
            self.client.indices.refresh(index=",".join(new.values()))
        except Exception:
            for name in new.values():
                self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        actions, old = [], []
        for language, name in new.items():
            alias = self.alias(language)
            try:
                current = list(self.client.indices.get_alias(name=alias).keys())
            except NotFoundError:
                current = []
            old += current
            actions += [{"remove": {"index": i, "alias": alias}} for i in current]
            actions.append({"add": {"index": name, "alias": alias}})
            actions.append({"remove": {"index": name, "alias": self.building_alias(language)}})
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        self.client.delete_by_query(
            index=",".join(new.values()),
            query={"bool": {"must_not": {"exists": {"field": "title"}}}},
            ignore_unavailable=True,
            refresh=True,
        )
        return count

    def drop_all(self) -> None:
        """Delete every index of this prefix (tests)."""
        self.client.indices.delete(index=f"{self.prefix}-items-*", ignore_unavailable=True)

    # --- reads --------------------------------------------------------------------------------
    def _term_query(self, term: str, fields: list[str], fuzzy: bool, compounds: bool) -> Query:
        """One query word over ``fields``: typo tolerant unless not ``fuzzy``; with
        ``compounds`` it also matches compound parts ("blatt" ending "datenblatt")."""
        if not fuzzy:
            return Q("multi_match", query=term, fields=fields)
        whole = Q("multi_match", query=term, fields=fields, fuzziness="AUTO", prefix_length=1)
        if not compounds or len(term) < COMPOUND_QUERY_MIN:
            return whole
        pieces = Q(
            "multi_match",
            query=term,
            fields=[f"{name}.parts^{FIELD_BOOSTS[name]}" for name in COMPOUND_FIELDS],
            boost=COMPOUND_BOOST,
        )
        return Q("bool", should=[whole, pieces], minimum_should_match=1)

    def build_search(self, query: SearchQuery) -> DslSearch:
        parsed = parse_query(query.text)

        def boosted(names) -> list[str]:
            return [f"{name}^{FIELD_BOOSTS[name]}" for name in names] + [
                f"{name}.folded^{FIELD_BOOSTS[name]}" for name in names
            ]

        fields, head_fields = boosted(FIELD_BOOSTS), boosted(HEAD_TEXT_FIELDS)
        compounds = query.fuzzy and compounding(query.filters.get("locale"))
        must = [self._term_query(t, fields, query.fuzzy, compounds) for t in parsed.terms]
        must += [
            Q("multi_match", query=" ".join(phrase), fields=fields, type="phrase")
            for phrase in parsed.phrases
        ]
        # Every query word in the title or product text: a constant lift above the matches
        # elsewhere (the database backend's "head" tier; scores within a tier still differ).
        head = [
            self._term_query(t, head_fields, query.fuzzy, compounds=False) for t in parsed.terms
        ] + [
            Q("multi_match", query=" ".join(phrase), fields=head_fields, type="phrase")
            for phrase in parsed.phrases
        ]
        should = [Q("constant_score", filter=Q("bool", must=head), boost=HEAD_BOOST)]
        filters = [entitlement_query(query.entitlement), *facet_filters(query.filters)]
        search = (
            DslSearch(using=self.client, index=self._search_indexes())
            .query(Q("bool", must=must, should=should, filter=filters))
            .extra(from_=query.offset, size=query.limit, track_total_hits=True)
            .source(False)
        )
        if query.fuzzy and parsed.terms:
            # Which query words the index lacks, and the close words it holds (the notice
            # "showing results for …": search.selectors picks among them).
            search = search.suggest(
                "spelling",
                " ".join(parsed.terms),
                term={"field": SPELL_FIELD, "suggest_mode": "missing", "size": 5},
            )
        if query.sort == "date":
            # elasticsearch.dsl types only the long form of a sort ({"_id": {"order": ...}}).
            search = search.sort(
                {"last_published_at": {"order": "desc"}},
                {"_id": "desc"},  # type: ignore[dict-item]
            )
        if query.facets:
            for name, field_name in FACETS.items():
                search.aggs.bucket(name, "terms", field=field_name, size=50)
        if query.highlight:
            search = search.highlight_options(
                pre_tags=[MARK_START], post_tags=[MARK_END], encoder="default"
            )
            search = search.highlight("title", number_of_fragments=0)
            search = search.highlight(
                "summary", "body", "attachments", fragment_size=150, number_of_fragments=2
            )
        return search

    def search(self, query: SearchQuery) -> SearchResult:
        if parse_query(query.text).empty or query.entitlement.scope == "none":
            return SearchResult(total=0, hits=[], facets={}, backend=self.name)
        body = self.build_search(query).to_dict()
        try:
            response = self._search_body(body)
        except Exception as exc:  # noqa: BLE001 - any engine failure is an outage for callers
            if "suggest" in body and f"[{SPELL_FIELD}]" in str(exc):
                # An index built before the spell field existed (not yet rebuilt): search
                # without corrections rather than fall back to the database.
                body.pop("suggest")
                try:
                    response = self._search_body(body)
                except Exception as again:  # noqa: BLE001
                    raise SearchBackendError(str(again)) from again
            else:
                raise SearchBackendError(str(exc)) from exc
        return self.parse_response(response, query)

    def _search_body(self, body: dict):
        return self.client.options(request_timeout=self.timeout).search(
            index=self._search_indexes(), body=body, ignore_unavailable=True
        )

    def parse_response(self, response, query: SearchQuery) -> SearchResult:
        hits = []
        for raw in response["hits"]["hits"]:
            highlight = raw.get("highlight", {})
            snippet_parts = (
                highlight.get("summary", [])
                + highlight.get("body", [])
                + highlight.get("attachments", [])
            )
            hits.append(
                SearchHit(
                    id=int(raw["_id"]),
                    score=raw.get("_score") or 0.0,
                    title_highlight=(highlight.get("title") or [""])[0],
                    snippet=" … ".join(snippet_parts[:2]),
                )
            )
        total = response["hits"]["total"]
        total = total["value"] if isinstance(total, dict) else total
        facets: dict[str, dict[str, int]] = defaultdict(dict)
        for name in FACETS:
            for bucket in response.get("aggregations", {}).get(name, {}).get("buckets", []):
                facets[name][str(bucket["key"])] = bucket["doc_count"]
        corrections: dict[str, list[str]] = {}
        if total:
            for entry in response.get("suggest", {}).get("spelling", []):
                options = [option["text"] for option in entry.get("options", [])]
                if options:
                    corrections[entry["text"]] = options
        return SearchResult(
            total=total,
            hits=hits,
            facets={name: facets.get(name, {}) for name in FACETS} if query.facets else {},
            backend=self.name,
            corrections=corrections,
        )

    def suggest(
        self, prefix: str, entitlement: SearchFilter, *, limit: int = 8
    ) -> list[Suggestion]:
        typed = " ".join(words(prefix)[:6])
        if not typed or entitlement.scope == "none":
            return []
        body = {
            "query": {
                "bool": {
                    "must": [
                        {
                            "multi_match": {
                                "query": typed,
                                "type": "bool_prefix",
                                "fields": [
                                    _suggest_name(field.field_name) + suffix
                                    for field in AUTOCOMPLETE_FIELDS
                                    for suffix in ("", "._2gram", "._3gram")
                                ],
                                "operator": "and",
                            }
                        }
                    ],
                    "filter": [entitlement_query(entitlement).to_dict()],
                }
            },
            "size": limit,
            "_source": ["title"],
        }
        try:
            response = self.client.options(request_timeout=self.timeout).search(
                index=self._search_indexes(), body=body, ignore_unavailable=True
            )
        except Exception as exc:  # noqa: BLE001
            raise SearchBackendError(str(exc)) from exc
        return [
            Suggestion(id=int(h["_id"]), title=h["_source"]["title"])
            for h in response["hits"]["hits"]
        ]
