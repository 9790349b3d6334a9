"""Wagtail's own (admin) database search backend, with user input escaped for SQLite FTS5.

The editors' searches in the Wagtail admin (documents, images, page explorer, choosers, the admin
API) go through modelsearch's database backend. On SQLite its FTS5 query builder wraps every
term in double quotes without doubling a double quote inside the term (and escapes ``'`` and
``\\`` as if the MATCH string were an SQL literal, which it is not: it is a bound parameter), so a
search for ``"abc`` builds the MATCH string ``""abc"`` and SQLite raises "unterminated string"
(a 500 in every admin search box; docs/upstream.md has the reproduction). This backend builds
the same queries with each term written as an FTS5 string (``"`` doubled, a NUL made a space),
so any text is a valid query: ``"abc`` searches for ``abc``.

On PostgreSQL, MySQL and without FTS5 the stock backend is used unchanged. Anything the database
still refuses in a search is raised as ``InvalidSearchQuery`` (search.middleware turns that into
a 400 "Invalid search" page), never as a 500.
"""

from __future__ import annotations

from django.utils.module_loading import import_string
from modelsearch.backends.database import SearchBackend as stock_backend


class InvalidSearchQuery(ValueError):
    """The search text could not be turned into a query the database accepts."""


def fts5_string(text: str) -> str:
    """``text`` as one FTS5 string token: in double quotes, an inner double quote doubled, a
    NUL (which ends the string for SQLite's parser: "unterminated string") made a space.

    Inside an FTS5 string every other character (``*``, ``:``, ``^``, ``(``, ``'``, ``\\``,
    keywords such as ``NEAR``/``AND``) is literal, so the result is always a valid term."""
    return '"' + text.replace("\x00", " ").replace('"', '""') + '"'


# modelsearch's database backend class (as its factory picks it for the connection) -> ours in
# its place. The SQLite one is imported only when in use: modelsearch registers its FTS models
# only on SQLite, so importing its module fails on other databases.
REPLACEMENTS = {
    "modelsearch.backends.database.sqlite.sqlite.SQLiteSearchBackend": (
        "search.wagtail_backend_sqlite.EscapingSQLiteSearchBackend"
    ),
}


def SearchBackend(params):  # noqa: N802 (the name modelsearch looks up in a backend module)
    """The backend for the ``default`` database, as modelsearch's own factory picks it, with
    the escaping SQLite backend in place of the stock one."""
    backend = stock_backend(params)
    stock = type(backend)
    replacement = REPLACEMENTS.get(f"{stock.__module__}.{stock.__qualname__}")
    return import_string(replacement)(params) if replacement else backend
