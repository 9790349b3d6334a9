"""Database faults for tests: a connection wrapper (Django's ``execute_wrapper``) that fails the
statements it matches, the way a lost connection fails them; on PostgreSQL, the real thing (the
backend terminated by another connection just before a statement runs)."""

from __future__ import annotations

import re
from typing import Any

from django.db import OperationalError, connection


class FailingStatements:
    """Raise ``error`` on the next ``times`` statements matching ``pattern``; count them."""

    def __init__(
        self, pattern: str = "", *, times: int = 1, error: type[Exception] = OperationalError
    ):
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.times = times
        self.error = error
        self.raised = 0

    def __call__(self, execute, sql: str, params: Any, many: bool, context: dict) -> Any:
        if self.times > 0 and self.pattern.search(sql):
            self.times -= 1
            self.raised += 1
            raise self.error("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


class TerminatedBackend:
    """PostgreSQL: just before the next ``times`` statements matching ``pattern``, another
    connection terminates this connection's backend (``pg_terminate_backend``), so the statement
    meets a really lost connection (psycopg's OperationalError)."""

    def __init__(self, pattern: str = "", *, times: int = 1):
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.times = times
        self.terminated = 0

    def __call__(self, execute, sql: str, params: Any, many: bool, context: dict) -> Any:
        if self.times > 0 and self.pattern.search(sql):
            self.times -= 1
            self.terminated += 1
            _terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


def _terminate(pid: int) -> None:
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
