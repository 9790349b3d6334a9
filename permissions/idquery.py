"""Run an ORM query for a list of ids without rebuilding it each time.

Building and compiling a Django queryset costs around a millisecond (more for the entitlement
filter); for a handful of ids per request (a page of search hits) that is most of the work. Such a
query is compiled once per key and connection with the id list as one parameter (a JSON array read
by ``json_each`` on SQLite, an integer array on PostgreSQL) and afterwards only executed.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

_PLACEHOLDER = "\x00portal-ids\x00"
# (using, vendor, key) → (sql, params, the ids' slot in params, the columns' converters).
_Compiled = tuple[str, list[Any], int, list[tuple[int, tuple[list[Any], Any]]]]
_compiled: OrderedDict[tuple[str, str, Hashable], _Compiled] = OrderedDict()
_lock = threading.Lock()  # the cache is shared by a process's request threads
_MAX = 512


def id_list(vendor: str) -> RawSQL:
    """A subquery yielding the ids passed at execution time (use as ``pk__in=``)."""
    if vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::integer[])", [_PLACEHOLDER])
    return RawSQL("SELECT value FROM json_each(%s)", [_PLACEHOLDER])


def rows_for_ids(
    key: Hashable,
    build: Callable[[RawSQL], QuerySet[Any, Any]],
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
        # The database's converters for each column (dates on SQLite, booleans…), as the ORM
        # would apply them: callers get the same Python values as from a queryset.
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
        rows: list[tuple[Any, ...]] = cursor.fetchall()
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
