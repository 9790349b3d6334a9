"""modelsearch's SQLite FTS5 backend with each term escaped (see search.wagtail_backend, which
imports this module only on SQLite: modelsearch registers its FTS models only there)."""

from __future__ import annotations

import re

from django.db import OperationalError
from modelsearch.backends.database.sqlite.query import Lexeme, SearchQueryExpression
from modelsearch.backends.database.sqlite.sqlite import (
    SQLiteAutocompleteQueryCompiler,
    SQLiteSearchBackend,
    SQLiteSearchQueryCompiler,
    SQLiteSearchResults,
)
from modelsearch.query import Phrase, PlainText

from . import wagtail_backend


class FTS5Term(Lexeme):
    """A term of a MATCH expression, escaped as an FTS5 string (see ``fts5_string``)."""

    def as_sql(self, compiler, connection):
        # modelsearch substitutes the parameters into the template itself (the MATCH
        # expression is one bound parameter), so the template is the whole quoted term.
        return ("%s*" if self.prefix else "%s"), [wagtail_backend.fts5_string(self.value)]


class _EscapingCompilerMixin:
    def build_search_query_content(self, query, config=None):
        if isinstance(query, PlainText):
            terms = query.query_string.split()
            if not terms:
                # Whitespace only: match nothing (the stock builder returns None here and
                # the MATCH expression then fails to compile).
                return SearchQueryExpression(FTS5Term(""), config=config)
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
FTS5_PARSE_ERROR = re.compile(r"fts5: |unterminated string|no such column|unknown special query")


class CheckedSearchResults(SQLiteSearchResults):
    """Results whose MATCH parse errors become ``InvalidSearchQuery``."""

    def _checked(self, run):
        try:
            return run()
        except OperationalError as exc:
            if FTS5_PARSE_ERROR.search(str(exc)):
                raise wagtail_backend.InvalidSearchQuery(str(exc)) from exc
            raise

    def _do_search(self):
        return self._checked(super()._do_search)

    def _do_count(self):
        return self._checked(super()._do_count)


class EscapingSQLiteSearchBackend(SQLiteSearchBackend):
    query_compiler_class = EscapingSearchQueryCompiler
    autocomplete_query_compiler_class = EscapingAutocompleteQueryCompiler
    results_class = CheckedSearchResults
