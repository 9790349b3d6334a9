"""Run an ORM query without rebuilding it each time: for a list of ids, or with named parameters.

Building and compiling a Django queryset costs around a millisecond (several for the entitlement
filter); for a handful of ids per request (a page of search hits) or one page of a listing that is
most of the work. Such a query is compiled once per key and connection and afterwards only
executed: ``rows_for_ids`` passes the id list as one parameter (a JSON array read by ``json_each``
on SQLite, an integer array on PostgreSQL); ``rows_for_params`` / ``count_for_params`` replace
``param(name)`` placeholders in the compiled parameters and add LIMIT / OFFSET.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

_PLACEHOLDER = "\x00portal-ids\x00"
_compiled: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()  # the cache is shared by a process's request threads
_MAX = 512


def id_list(vendor: str) -> RawSQL:
    """A subquery yielding the ids passed at execution time (use as ``pk__in=``)."""
    if vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::integer[])", [_PLACEHOLDER])
    return RawSQL("SELECT value FROM json_each(%s)", [_PLACEHOLDER])


def rows_for_ids(
    key: Hashable,
    build: Callable[[RawSQL], QuerySet[Any]],
    ids: Iterable[int],
    using: str = "default",
) -> list[tuple[Any, ...]]:
    """Rows of ``build(id_list)`` (a ``values_list`` queryset) for ``ids``.

    ``key`` must identify everything ``build`` depends on besides the ids: the statement compiled
    for a key is reused for every later call with that key.
    """
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    connection = connections[using]
    full_key = (using, connection.vendor, key)
    with _lock:
        compiled = _compiled.get(full_key)
        if compiled is not None:
            _compiled.move_to_end(full_key)
    if compiled is None:
        compiler = build(id_list(connection.vendor)).using(using).query.get_compiler(using)
        sql, params = compiler.as_sql()
        params = list(params)
        converters = compiler.get_converters(
            [column[0] for column in compiler.select[0 : compiler.col_count]]
        )
        compiled = (sql, params, params.index(_PLACEHOLDER), list(converters.items()))
        with _lock:
            _compiled[full_key] = compiled
            if len(_compiled) > _MAX:
                _compiled.popitem(last=False)
    sql, params, slot, converters = compiled
    params = list(params)
    params[slot] = wanted if connection.vendor == "postgresql" else json.dumps(wanted)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _convert(rows, converters, connection)


def param(name: str) -> str:
    """A placeholder for the value ``name`` in a ``rows_for_params`` / ``count_for_params``
    queryset: pass it where the value goes (``filter(product__key=param("product"))``).

    Only where Django passes the value through unchanged: exact and range comparisons of text
    columns (``exact``, ``gt``, ``lt``…), not ``contains`` / ``startswith`` (they wrap it in ``%``).
    """
    return f"\x00portal-param:{name}\x00"


def raw_param(name: str) -> RawSQL:
    """A placeholder for the value ``name`` as an expression, passed to the database as is: for
    columns whose lookups would convert the text of ``param(name)`` at compile time (integers,
    UUIDs)."""
    return RawSQL("%s", [param(name)])


def window(queryset: QuerySet[Any]) -> RawSQL:
    """The rows ``param("offset")`` to ``param("offset") + param("limit")`` of ``queryset`` (an
    ordered ``values_list`` of one column), as a subquery: ``filter(pk__in=window(ids))`` sorts
    and skips ids only, then reads whole rows for the page."""
    sql, params = queryset.query.sql_with_params()
    # The ORM's compiled statement; every value is a parameter.
    return RawSQL(f"{sql} LIMIT %s OFFSET %s", (*params, param("limit"), param("offset")))  # noqa: S611


def rows_for_params(
    key: Hashable,
    build: Callable[[], QuerySet[Any]],
    values: Mapping[str, object],
    *,
    limit: int | None = None,
    offset: int = 0,
    using: str = "default",
) -> list[tuple[Any, ...]]:
    """Rows of ``build()`` (a ``values_list`` queryset whose filters use ``param(name)``), each
    placeholder replaced by ``values[name]``; with ``limit``, rows ``offset`` to
    ``offset + limit`` (order the queryset).

    ``key`` must identify everything ``build`` depends on besides those values.
    """
    connection = connections[using]
    sql, params, converters = _compiled_with_params(("rows", key), build, values, using)
    if limit is not None:
        sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, int(limit), int(offset)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _convert(rows, converters, connection)


def count_for_params(
    key: Hashable,
    build: Callable[[], QuerySet[Any]],
    values: Mapping[str, object],
    *,
    upto: int,
    using: str = "default",
) -> int:
    """How many rows ``build()`` has, counting at most ``upto`` (the database stops there)."""
    connection = connections[using]
    sql, params, _ = _compiled_with_params(("count", key), build, values, using)
    with connection.cursor() as cursor:
        # The ORM's compiled statement; every value is a parameter.
        bounded = f"SELECT COUNT(*) FROM ({sql} LIMIT %s) AS bounded"  # noqa: S608
        cursor.execute(bounded, [*params, int(upto)])
        count: int = cursor.fetchone()[0]
        return count


def _compiled_with_params(
    key: Hashable, build: Callable[[], QuerySet[Any]], values: Mapping[str, object], using: str
) -> tuple[str, list[Any], list[Any]]:
    connection = connections[using]
    full_key = (using, connection.vendor, "params", key)
    with _lock:
        compiled = _compiled.get(full_key)
        if compiled is not None:
            _compiled.move_to_end(full_key)
    if compiled is None:
        compiler = build().using(using).query.get_compiler(using)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters(
            [column[0] for column in compiler.select[0 : compiler.col_count]]
        )
        by_placeholder = {param(name): name for name in values}
        slots = [
            (position, by_placeholder[value])
            for position, value in enumerate(params)
            if isinstance(value, str) and value in by_placeholder
        ]
        missing = set(values) - {name for _, name in slots}
        if missing:
            raise ValueError(f"placeholders not found in the compiled statement: {missing}")
        compiled = (sql, list(params), slots, list(converters.items()))
        with _lock:
            _compiled[full_key] = compiled
            if len(_compiled) > _MAX:
                _compiled.popitem(last=False)
    sql, params, slots, converters = compiled
    params = list(params)
    for position, name in slots:
        params[position] = values[name]
    return sql, params, converters


def _convert(
    rows: list[tuple[Any, ...]], converters: list[Any], connection: Any
) -> list[tuple[Any, ...]]:
    """Apply the database's converters for each column (dates on SQLite, booleans…), as the ORM
    would: callers get the same Python values as from a queryset."""
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for position, (functions, expression) in converters:
            value = values[position]
            for function in functions:
                value = function(value, expression, connection)
            values[position] = value
        converted.append(tuple(values))
    return converted
