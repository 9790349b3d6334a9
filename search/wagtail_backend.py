"""Wagtail's own (admin) database search backend, with user input escaped for SQLite FTS5.

The editors' searches in the Wagtail admin (documents, images, page explorer, choosers, the admin
API) go through modelsearch's database backend. On SQLite its FTS5 query builder wraps every
term in double quotes without doubling a double quote inside the term (and escapes ``'`` and
``\\`` as if the MATCH string were an SQL literal, which it is not: it is a bound parameter), so a
search for ``"abc`` builds the MATCH string ``""abc"`` and SQLite raises "unterminated string"
(a 500 in every admin search box; docs/upstream.md has the reproduction). This backend builds
the same queries with each term written as an FTS5 string (``"`` doubled, nothing else touched),
so any text is a valid query: ``"abc`` searches for ``abc``.

On PostgreSQL, MySQL and without FTS5 the stock backend is used unchanged. Anything the database
still refuses in a search is raised as ``InvalidSearchQuery`` (kb.middleware turns that into a
400 "invalid search" page), never as a 500.
"""

from __future__ import annotations

import re

from django.db import OperationalError
from modelsearch.backends.database import SearchBackend as stock_backend
from modelsearch.backends.database.sqlite.query import Lexeme, SearchQueryExpression
from modelsearch.backends.database.sqlite.sqlite import (
    SQLiteAutocompleteQueryCompiler,
    SQLiteSearchBackend,
    SQLiteSearchQueryCompiler,
    SQLiteSearchResults,
)
from modelsearch.query import Phrase, PlainText


class InvalidSearchQuery(ValueError):
    """The search text could not be turned into a query the database accepts."""


def fts5_string(text: str) -> str:
    """``text`` as one FTS5 string token: in double quotes, an inner double quote doubled.

    Inside an FTS5 string every other character (``*``, ``:``, ``^``, ``(``, ``'``, ``\\``,
    keywords such as ``NEAR``/``AND``) is literal, so the result is always a valid term."""
    return '"' + text.replace('"', '""') + '"'


class FTS5Term(Lexeme):
    """A term of a MATCH expression, escaped as an FTS5 string (see ``fts5_string``)."""

    def as_sql(self, compiler, connection):
        # modelsearch substitutes the parameters into the template itself (the MATCH
        # expression is one bound parameter), so the template is the whole quoted term.
        return ("%s*" if self.prefix else "%s"), [fts5_string(self.value)]


class _EscapingCompilerMixin:
    def build_search_query_content(self, query, config=None):
        if isinstance(query, PlainText):
            terms = query.query_string.split()
            if not terms:
                return None
            lexemes = FTS5Term(terms.pop(), prefix=self.LAST_TERM_IS_PREFIX)
            for term in terms:
                if query.operator.upper() == "AND":
                    lexemes &= FTS5Term(term)
                else:
                    lexemes |= FTS5Term(term)
            return SearchQueryExpression(lexemes, config=config)
        if isinstance(query, Phrase):
            return SearchQueryExpression(FTS5Term(query.query_string))
        return super().build_search_query_content(query, config=config)


class EscapingSearchQueryCompiler(_EscapingCompilerMixin, SQLiteSearchQueryCompiler):
    pass


class EscapingAutocompleteQueryCompiler(_EscapingCompilerMixin, SQLiteAutocompleteQueryCompiler):
    pass


# What SQLite says when it cannot parse a MATCH string (other errors, e.g. "database is
# locked", stay what they are).
FTS5_PARSE_ERROR = re.compile(
    r"fts5: syntax error|unterminated string|no such column|unknown special query|fts5:"
)


class CheckedSearchResults(SQLiteSearchResults):
    """Results whose MATCH parse errors become ``InvalidSearchQuery``."""

    def _checked(self, run):
        try:
            return run()
        except OperationalError as exc:
            if FTS5_PARSE_ERROR.search(str(exc)):
                raise InvalidSearchQuery(str(exc)) from exc
            raise

    def _do_search(self):
        return self._checked(super()._do_search)

    def _do_count(self):
        return self._checked(super()._do_count)


class EscapingSQLiteSearchBackend(SQLiteSearchBackend):
    query_compiler_class = EscapingSearchQueryCompiler
    autocomplete_query_compiler_class = EscapingAutocompleteQueryCompiler
    results_class = CheckedSearchResults


def SearchBackend(params):  # noqa: N802 (the name modelsearch looks up in a backend module)
    """The backend for the ``default`` database, as modelsearch's own factory picks it, with
    the escaping SQLite backend in place of the stock one."""
    backend = stock_backend(params)
    if type(backend) is SQLiteSearchBackend:
        return EscapingSQLiteSearchBackend(params)
    return backend
