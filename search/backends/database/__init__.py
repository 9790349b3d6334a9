"""The database search backend (the embedded default, and the engine's fallback).

``backend.py``       the backend: writes, rebuild, vocabulary, search and ranking (engine-neutral)
``entitlement.py``   the shared entitlement part: audience columns and the asker's filter
``filters.py``       the WHERE clause (entitlement and facets), compiled once per asker
``sqlite.py``        SQLite FTS5 (chosen when the database is SQLite)
``postgresql.py``    PostgreSQL full-text search (chosen when it is PostgreSQL)
``lexemes.py``       PostgreSQL highlighting by lexeme
``highlighting.py``  title highlights and snippets for a page of hits (both engines)
``schema.py``        table names and per-language configs

``PORTAL_SEARCH_BACKENDS`` names this package (``search.backends.database``).
"""

from .backend import ENGINES, SearchBackend, engine_for

__all__ = ["ENGINES", "SearchBackend", "engine_for"]
