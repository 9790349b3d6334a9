"""Typo tolerance for the database backend: a term vocabulary matched by trigrams + edit distance.

The vocabulary (SQLite: FTS5's own ``fts5vocab`` table; PostgreSQL: ``SearchTerm``) is loaded into
a per-process trigram index and reloaded when the index generation (bumped on every write, kept in
the cache so all processes see it) changes.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

from django.core.cache import cache

from .backends.base import max_edits

GENERATION_KEY = "portal-search:vocab-generation"
MAX_EXPANSIONS = 8


def bump_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def _trigrams(term: str) -> set[str]:
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b``, or ``limit + 1`` once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        best = i
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            current.append(value)
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous = current
    return previous[-1]


class Vocabulary:
    def __init__(self, terms) -> None:
        self.terms: set[str] = set(terms)
        self.expansions: dict[str, list[str]] = {}  # per vocabulary generation
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
        scored = []
        for candidate, shared in counts.items():
            if shared < need or candidate == term:
                continue
            distance = levenshtein(term, candidate, limit)
            if distance <= limit:
                scored.append((distance, candidate))
        scored.sort()
        return [term] + [c for _, c in scored[:MAX_EXPANSIONS]]


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
                self.vocabulary = Vocabulary(self.loader())
                self.generation = generation
            return self.vocabulary
