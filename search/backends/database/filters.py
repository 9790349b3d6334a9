"""A search's WHERE clause on the entry rows: the asker's entitlement and the facet filters,
compiled to SQL once per (entitlement, filters) and kept."""

from __future__ import annotations

from collections import OrderedDict

from django.db import connections
from django.db.models import Q

from permissions.policies.search import SearchFilter

from ...fields import FACETS, is_multiple
from ...models import SearchEntry
from .entitlement import entitlement_q


def facet_q(filters: dict[str, list[str]]) -> Q:
    """The facet filters (facet name -> wanted values, OR-ed) as a filter on SearchEntry."""
    q = Q()
    for name, values in filters.items():
        values = [v for v in values if v]
        if not values:
            continue
        column = FACETS[name]
        if is_multiple(column):  # "|a|b|" tokens
            any_of = Q()
            for value in values:
                any_of |= Q(**{f"{column}__contains": f"|{value}|"})
            q &= any_of
        else:
            q &= Q(**{f"{column}__in": values})
    return q


class WhereCache:
    """Compiled WHERE clauses per (entitlement, filters): compiling the ORM expression costs more
    than the query for small result sets, and the same asker repeats it."""

    SIZE = 512

    def __init__(self, using: str) -> None:
        self.using = using
        self._compiled: OrderedDict = OrderedDict()

    def get(self, flt: SearchFilter, filters: dict[str, list[str]]) -> tuple[str, list]:
        """(SQL, parameters) of the filter, to AND into a statement over the entry table."""
        key = (flt, tuple(sorted((name, tuple(values)) for name, values in filters.items())))
        cached = self._compiled.get(key)
        if cached is None:
            qs = SearchEntry.objects.using(self.using).filter(entitlement_q(flt) & facet_q(filters))
            compiler = qs.query.get_compiler(using=self.using)
            sql, params = qs.query.where.as_sql(compiler, connections[self.using])
            cached = ((sql or "1=1"), tuple(params))
            self._compiled[key] = cached
            if len(self._compiled) > self.SIZE:
                self._compiled.popitem(last=False)
        return cached[0], list(cached[1])
