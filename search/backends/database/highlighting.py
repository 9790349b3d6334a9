"""Title highlights and snippets for a page of hits, in Python over the hits' text rows.

Both engines do it this way: FTS5's ``highlight()``/``snippet()`` need the MATCH again, whose
cost grows with the catalogue, and PostgreSQL's ``ts_headline`` parses each text in full. The
engines differ only in which words a query marks (``search.highlight.Highlighter`` per text
search config: SQLite compares words the way its tokenizer does; PostgreSQL by lexeme,
``lexemes.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from ...highlight import Highlighter
from ..base import SearchHit
from .schema import SNIPPET_SCAN, TEXT

# {ts_config: [text, …]} -> {ts_config: Highlighter}
Highlighters = Callable[[object, dict[str, list[str]]], dict[str, Highlighter]]


def highlight_hits(cursor, hits: list[SearchHit], highlighters: Highlighters) -> None:
    """Set each hit's title highlight and snippet.

    ``highlighters(cursor, texts)`` gets {ts_config: [text, …]} and returns a Highlighter per
    config. The snippet comes from the start of the page text (like a search engine's first
    fragment); from the files only when the page text has no match."""
    by_id = {hit.id: hit for hit in hits}
    rows = text_rows(
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
        files = text_rows(cursor, f"substr(attachments, 1, {SNIPPET_SCAN})", without)
        texts = {}
        for item_id, attachments in files:
            texts.setdefault(without[item_id], []).append(attachments)
        marker = highlighters(cursor, texts)
        for item_id, attachments in files:
            by_id[item_id].snippet = marker[without[item_id]].snippet(attachments)


def text_rows(cursor, columns: str, ids) -> list[tuple]:
    """(id, *columns) of the SearchText rows of ``ids``."""
    marks = ", ".join(["%s"] * len(ids))
    cursor.execute(
        f"SELECT id, {columns} FROM {TEXT} WHERE id IN ({marks})",  # noqa: S608
        list(ids),
    )
    return cursor.fetchall()
