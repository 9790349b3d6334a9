"""Highlighting: marking the query's words in result text, and turning the marks into HTML.

Backends put ``MARK_START``/``MARK_END`` (control characters) around matches in plain text; the
page escapes the text and only then turns the markers into ``<mark>`` elements
(``marks_to_html``), so stored text can never inject markup. The Elasticsearch backend gets its
marks from the engine; the database backend marks in Python with ``Highlighter``.
"""

from __future__ import annotations

import html
import re
import string

from django.utils.safestring import SafeString, mark_safe

from .query import WORD, normalise

MARK_START, MARK_END = "\x02", "\x03"  # highlight markers, turned into <mark> after escaping
_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")


def marks_to_html(text: str) -> SafeString:
    """Escape ``text`` and turn the backends' highlight markers into <mark> elements."""
    # html.escape is what django.utils.html.escape runs, without its lazy-string wrapper
    # (called twice per result line).
    return mark_safe(  # noqa: S308 - escaped first, only our own tags added
        html.escape(str(text)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    )


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
        for m in WORD.finditer(text):
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
