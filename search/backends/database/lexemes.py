"""PostgreSQL highlighting by lexeme: a word is marked when the item's text search config turns
it into a lexeme of the query (so "guides" marks "guide" in English, and stop words mark
nothing), exactly as the match itself treats it.

``ts_headline`` did the same in the database at 8-10 ms per page of 20 hits (it parses each text
in full). Here the query's lexemes come from one ``to_tsquery`` per config, and each word's
lexemes from ``to_tsvector`` once per process: later pages only ask for words not seen yet.
"""

from __future__ import annotations

import re

from ...highlight import Highlighter
from ...query import WORD, normalise

_TSQUERY_LEXEME = re.compile(r"'((?:[^']|'')*)'")
# Per process: config -> {word: the word's lexemes}, and (config, lexeme) -> normalised words.
_LEXEMES: dict[str, dict[str, frozenset[str]]] = {}
_WORDS_BY_LEXEME: dict[tuple[str, str], set[str]] = {}
MAX_WORDS_PER_CONFIG = 200_000  # a bound on memory; the cache refills from use


class LexemeHighlighters:
    """Highlighters for one query (``tsquery``), one per text search config."""

    def __init__(self, tsquery: str) -> None:
        self.tsquery = tsquery
        self._query_lexemes: dict[str, set[str]] = {}  # per config

    def __call__(self, cursor, texts: dict[str, list[str]]) -> dict[str, Highlighter]:
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
            seen = set(WORD.findall(" ".join(chunks).lower()))
            unknown = sorted(seen - _LEXEMES.setdefault(config, {}).keys())
            if unknown:
                cursor.execute(
                    "SELECT w, tsvector_to_array(to_tsvector(%s::regconfig, w)) "
                    "FROM unnest(%s::text[]) AS w",
                    [config, unknown],
                )
                _remember(config, cursor.fetchall())
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


def _remember(config: str, rows) -> None:
    known = _LEXEMES.setdefault(config, {})
    if len(known) > MAX_WORDS_PER_CONFIG:
        known.clear()
        for key in [k for k in _WORDS_BY_LEXEME if k[0] == config]:
            del _WORDS_BY_LEXEME[key]
    for word, lexemes in rows:
        known[word] = frozenset(lexemes)
        for lexeme in lexemes:
            _WORDS_BY_LEXEME.setdefault((config, lexeme), set()).add(normalise(word))
