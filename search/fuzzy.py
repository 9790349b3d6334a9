"""Typo tolerance for the database backend: a term vocabulary matched by trigrams + edit distance.

The vocabulary (SQLite: FTS5's own ``fts5vocab`` table; PostgreSQL: ``SearchTerm``) is loaded into
a per-process trigram index and reloaded when the index generation (bumped on every write, kept in
the cache so all processes see it) changes.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from collections import Counter, defaultdict

from django.core.cache import cache

from .query import max_edits

GENERATION_KEY = "portal-search:vocab-generation"
MAX_EXPANSIONS = 8
# Compound parts (German "Blatt" in "Datenblatt"): a word of at least this many letters
# matches the vocabulary's words that end with it, the rest being at least COMPOUND_REST
# letters long (so a plural or a short prefix is not taken for a compound).
COMPOUND_MIN = 5
COMPOUND_REST = 3
MAX_COMPOUNDS = 8


def bump_generation() -> None:
    """A new vocabulary generation: a value never used before, not a counter. After the shared
    cache was cleared a counter would start again at 1, and a process still holding the
    vocabulary it loaded under an earlier "1" would keep using it (stale words, stale document
    counts) until the next change."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _trigrams(term: str) -> set[str]:
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b`` (a swap of two neighbouring letters is one edit, as in
    Elasticsearch's fuzzy matching: "ruoter" is one edit from "router"), or ``limit + 1`` once
    it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        best = i
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current.append(value)
            best = min(best, value)
        if best > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


class Vocabulary:
    """The index's terms; with ``doc_counts`` (term → number of items containing it, and
    ``documents`` the number of items) it also estimates how many items a query matches."""

    def __init__(self, terms, doc_counts: dict[str, int] | None = None, documents: int = 0) -> None:
        self.terms: set[str] = set(terms)
        self.doc_counts = doc_counts
        self.documents = documents
        self.expansions: dict[str, list[str]] = {}  # per vocabulary generation
        self.compound_cache: dict[str, list[str]] = {}
        self._reversed: list[str] | None = None  # the terms reversed and sorted (compounds)
        self.by_trigram: dict[str, list[str]] = defaultdict(list)
        for term in self.terms:
            for gram in _trigrams(term):
                self.by_trigram[gram].append(term)

    def expand(self, term: str) -> list[str]:
        """``term`` and up to MAX_EXPANSIONS vocabulary terms within ``max_edits(term)``."""
        cached = self.expansions.get(term)
        if cached is None:
            cached = self._expand(term)
            if len(self.expansions) < 50_000:
                self.expansions[term] = cached
        return cached

    def _expand(self, term: str) -> list[str]:
        limit = max_edits(term)
        if limit == 0:
            return [term]
        grams = _trigrams(term)
        # Strings within k edits share at least |grams| - 3k trigrams.
        need = max(1, len(grams) - 3 * limit)
        counts = Counter(t for g in grams for t in self.by_trigram.get(g, ()))
        counts_of = self.doc_counts or {}
        scored = []
        for candidate, shared in counts.items():
            if shared < need or candidate == term:
                continue
            distance = levenshtein(term, candidate, limit)
            if distance <= limit:
                # Closest first, then the most common (the likelier meant word).
                scored.append((distance, -counts_of.get(candidate, 0), candidate))
        scored.sort()
        return [term] + [c for _, _, c in scored[:MAX_EXPANSIONS]]

    def compounds(self, term: str) -> list[str]:
        """Up to MAX_COMPOUNDS vocabulary words that end with ``term`` as their last compound
        part ("blatt" → "datenblatt", "richtlinien" → "sicherheitsrichtlinien"), most frequent
        first. German puts a compound's head last (a "Datenblatt" is a kind of "Blatt"); words
        that merely begin with the term are not matched ("install" must not find every
        "installation…"). Used for languages configured with ``"compounds"``
        (``PORTAL_SEARCH_LANGUAGES``)."""
        cached = self.compound_cache.get(term)
        if cached is None:
            cached = self._compounds(term) if len(term) >= COMPOUND_MIN else []
            if len(self.compound_cache) < 50_000:
                self.compound_cache[term] = cached
        return cached

    def _compounds(self, term: str) -> list[str]:
        if self._reversed is None:
            self._reversed = sorted(t[::-1] for t in self.terms)
        key = term[::-1]
        found = []
        # A binary search over the reversed words: the words ending with ``term`` are
        # neighbours there. At most 2,000 of them: a common ending must not cost a scan.
        start = bisect.bisect_left(self._reversed, key)
        for candidate in self._reversed[start : start + 2000]:
            if not candidate.startswith(key):
                break
            if len(candidate) - len(key) >= COMPOUND_REST:
                found.append(candidate[::-1])
        counts = self.doc_counts or {}
        return sorted(found, key=lambda t: (-counts.get(t, 0), t))[:MAX_COMPOUNDS]

    def estimate(self, groups: list[list[str]], phrases: list[list[str]]) -> float | None:
        """Items expected to match every group (any of its terms) and every phrase, taking the
        terms as independent; None without document counts. A planning hint only: it picks
        the cheaper way to run a query, never what the query returns."""
        if self.doc_counts is None or not self.documents:
            return None
        n = self.documents
        fraction = 1.0
        for group in groups:
            fraction *= min(1.0, sum(self.doc_counts.get(t, 0) for t in group) / n)
        for phrase in phrases:
            fraction *= min((self.doc_counts.get(w, 0) for w in phrase), default=n) / n
        return n * fraction


class VocabularyCache:
    def __init__(self, loader) -> None:
        self.loader = loader
        self.generation: object = object()
        self.vocabulary: Vocabulary | None = None
        self.lock = threading.Lock()

    def get(self) -> Vocabulary:
        generation = cache.get(GENERATION_KEY, 0)
        with self.lock:
            if self.vocabulary is None or generation != self.generation:
                loaded = self.loader()
                self.vocabulary = loaded if isinstance(loaded, Vocabulary) else Vocabulary(loaded)
                self.generation = generation
            return self.vocabulary
