"""Query text: what a search box's text means to every backend.

Words are lower-cased and stripped of diacritics, which is what the indexes' tokenizers do
(FTS5's ``unicode61 remove_diacritics 2``, Elasticsearch's asciifolding); quoted parts are
phrases (an exact word sequence), the rest single terms (typo tolerant). Highlighting marks
these words in result text: ``search.highlight``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')
MAX_TERMS = 12
MAX_PHRASES = 4


def normalise(word: str) -> str:
    """Lower-case and strip diacritics (what the indexes' tokenizers do)."""
    if word.isascii():
        # Nothing to decompose or strip: a search page's highlighter normalises about 2,000
        # words per request over German, Czech and Arabic text, most of them ASCII.
        return word.lower()
    return _normalise_unicode(word)


@functools.lru_cache(maxsize=8192)
def _normalise_unicode(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The normalised words of ``text``."""
    return [normalise(w) for w in WORD.findall(text or "")]


@dataclass
class ParsedQuery:
    terms: list[str]  # single words (typo tolerant)
    phrases: list[list[str]]  # quoted phrases (exact word sequence)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.phrases

    @property
    def words(self) -> set[str]:
        """Every word of the query (terms and phrase words)."""
        return set(self.terms) | {w for phrase in self.phrases for w in phrase}


def parse_query(text: str) -> ParsedQuery:
    """Split ``text`` into terms and "quoted phrases" (at most 12 terms and 4 phrases)."""
    phrases = [words(p) for p in _PHRASE.findall(text or "")]
    rest = _PHRASE.sub(" ", text or "")
    return ParsedQuery(
        terms=words(rest)[:MAX_TERMS], phrases=[p for p in phrases if p][:MAX_PHRASES]
    )


def max_edits(term: str) -> int:
    """Elasticsearch's ``fuzziness: AUTO``: 0 edits up to 2 chars, 1 up to 5, else 2."""
    return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2


def language_settings(language: str) -> dict:
    """``PORTAL_SEARCH_LANGUAGES`` for ``language`` (its "*" entry when it has none)."""
    languages = getattr(settings, "PORTAL_SEARCH_LANGUAGES", {})
    return languages.get(language) or languages.get("*") or {}


def compounding(languages: Iterable[str] | None) -> bool:
    """Does a search over ``languages`` (None: every content language) match compound parts
    ("Blatt" finds "Datenblatt")? Yes when one of them is configured with ``"compounds": True``
    in ``PORTAL_SEARCH_LANGUAGES`` (German by default: docs/search.md)."""
    if languages is None:
        languages = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]
    return any(language_settings(language).get("compounds") for language in languages)
