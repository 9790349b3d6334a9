"""The one interface every portal search backend implements (STYLE.md conventions 10-12).

Views, tasks and commands talk only to ``BaseSearchBackend``; they never branch on the engine.
A backend receives the asker's entitlement as ``permissions.policies.SearchFilter`` and must
translate it into a filter inside its own query (never a list of allowed ids).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from permissions.policies.search import SearchFilter

from ..documents import SearchDocument

FACETS = ("kind", "product", "locale", "tags")
MARK_START, MARK_END = "\x02", "\x03"  # highlight markers, turned into <mark> after escaping


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

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise FilterFieldError(f"not a filter field: {', '.join(sorted(unknown))}")


@dataclass
class SearchHit:
    id: int
    score: float = 0.0
    title_highlight: str = ""  # plain text with MARK_START/MARK_END around matches
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

    @property
    def ids(self) -> list[int]:
        return [hit.id for hit in self.hits]


@dataclass
class Suggestion:
    id: int
    title: str


# --- query text --------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)
_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")
_PHRASE = re.compile(r'"([^"]*)"')


def normalise(word: str) -> str:
    """Lower-case and strip diacritics (what the indexes' tokenizers do)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [normalise(w) for w in _WORD.findall(text or "")]


@dataclass
class ParsedQuery:
    terms: list[str]  # single words (typo tolerant)
    phrases: list[list[str]]  # quoted phrases (exact word sequence)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.phrases


def parse_query(text: str) -> ParsedQuery:
    phrases = [words(p) for p in _PHRASE.findall(text or "")]
    rest = _PHRASE.sub(" ", text or "")
    return ParsedQuery(terms=words(rest)[:12], phrases=[p for p in phrases if p][:4])


def max_edits(term: str) -> int:
    """Elasticsearch's ``fuzziness: AUTO``: 0 edits up to 2 chars, 1 up to 5, else 2."""
    return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2


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


# --- highlighting in Python (the database backend on SQLite) --------------------------------------


class Highlighter:
    """Marks the words of ``terms`` (normalised: lower case, no diacritics) in text, the way the
    index's tokenizer would match them. ASCII text (most of it) is scanned by one compiled regex;
    text with other letters is compared word by word after normalising."""

    def __init__(self, terms: set[str]) -> None:
        self.terms = terms
        alternatives = "|".join(sorted((re.escape(t) for t in terms), key=len, reverse=True))
        # No leading \b: a pattern that starts with the alternation lets the regex engine skip
        # ahead to the terms' first letters (twice as fast over 6,000 characters); the word
        # start is checked per match instead.
        self.pattern = re.compile(rf"(?:{alternatives})\b") if terms else None

    def _matches(self, text: str) -> list[tuple[int, int, str]]:
        if self.pattern is None:  # nothing to mark
            return []
        if text.isascii():  # lower() keeps ASCII offsets; a case-sensitive scan is faster
            low = text.lower()
            return [
                (m.start(), m.end(), m.group(0))
                for m in self.pattern.finditer(low)
                if not m.start() or low[m.start() - 1] not in _ASCII_WORD
            ]
        out = []
        for m in _WORD.finditer(text):
            word = normalise(m.group(0))
            if word in self.terms:
                out.append((m.start(), m.end(), word))
        return out

    @staticmethod
    def _clean(text: str | None) -> str:
        # Stored text could carry the marker characters (control characters): drop them, so
        # only this highlighter's marks become <mark> elements.
        return (text or "").replace(MARK_START, "").replace(MARK_END, "")

    def mark(self, text: str) -> str:
        text = self._clean(text)
        matches = self._matches(text)
        return self._marked(text, matches) + text[matches[-1][1] if matches else 0 :]

    @staticmethod
    def _marked(text: str, matches, offset: int = 0) -> str:
        parts, position = [], offset
        for start, end, _word in matches:
            parts += [text[position:start], MARK_START, text[start:end], MARK_END]
            position = end
        return "".join(parts)

    def snippet(self, text: str, width: int = 160) -> str:
        """About ``width`` characters around the densest run of distinct matches, marked, with
        "…" where it was cut; "" when nothing matches."""
        text = self._clean(text)
        matches = self._matches(text)
        if not matches:
            return ""
        best, best_score = 0, -1
        for k, (start, _end, _word) in enumerate(matches[:64]):
            seen = {w for s, _e, w in matches[k : k + 32] if s < start + width}
            if len(seen) > best_score:
                best, best_score = k, len(seen)
        anchor = matches[best][0]
        begin = text.rfind(" ", 0, max(0, anchor - 20)) + 1 if anchor > 20 else 0
        stop = text.find(" ", min(len(text), begin + width))
        stop = len(text) if stop == -1 else stop
        inside = [m for m in matches if begin <= m[0] and m[1] <= stop]
        return (
            ("…" if begin > 0 else "")
            + self._marked(text, inside, begin)
            + text[inside[-1][1] if inside else begin : stop]
            + ("…" if stop < len(text) else "")
        )
