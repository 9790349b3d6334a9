"""The audience rule in its pure form, and the algebra that compiles it down the page tree.

An item is visible to a partner organisation when it is live, the organisation is not
suspended, no node of the item's chain (the item and its ancestors) holds an exception for the
organisation, and every node of the chain passes its own rule or is granted to the
organisation. A node's own rule: public, or the tier rank at least ``min_rank``, the region (or
an ancestor of it) in ``regions`` and the type in ``types`` (None: no restriction there).

Each form of the rule is written once:

* Python, here: ``tier_passes``, ``region_passes``, ``type_passes``, ``rule_passes`` (instance
  checks and their explanations in pages.py, the search audience in search.py);
* Django ``Q``, here: ``rule_q`` (listings through ``pages.PagePolicy.visible_q``, the
  database search through ``search.search_index_q`` over its index's copy of the audience);
* Elasticsearch: search/backends/elasticsearch.py, which translates ``search.SearchFilter``
  (the query form lives with its engine; the contract tests hold it to ``rule_passes``).

``combine`` compiles a node's own rule with its parent's effective rule (``PageAudience.eff_*``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar, overload

from django.db.models import Q
from wagtail.models import Page

STEPLEN = Page.steplen

Regions = frozenset[int] | None  # None: no restriction


class Asker(Protocol):
    """What the rule needs to know about who is asking (a Principal or a SearchFilter): read-only
    members, so frozen dataclasses qualify."""

    @property
    def tier_rank(self) -> int | None: ...

    @property
    def region_ids(self) -> frozenset[int]: ...  # the organisation's region and its ancestors

    @property
    def type_id(self) -> int | None: ...


_Token = TypeVar("_Token", int, str)


def tokens(ids: Iterable[_Token]) -> str:
    """Encode a set of ids (or of keys: search's tag slugs) as ``|1|5|`` (see PageAudience)."""
    unique = set(ids)
    return "|" + "|".join(str(i) for i in sorted(unique)) + ("|" if unique else "")


@overload
def parse_tokens(value: str) -> frozenset[int]: ...


@overload
def parse_tokens(value: str | None) -> frozenset[int] | None: ...


def parse_tokens(value: str | None) -> frozenset[int] | None:
    """Decode ``|1|5|`` into ids; None stays None (no restriction)."""
    if value is None:
        return None
    return frozenset(int(part) for part in value.strip("|").split("|") if part)


@functools.cache
def chain_paths(path: str) -> tuple[str, ...]:
    """The tree paths of a page's chain: its ancestors' and its own, root first."""
    return tuple(path[: STEPLEN * depth] for depth in range(1, len(path) // STEPLEN + 1))


# -- the Python form ---------------------------------------------------------------------------


def tier_passes(min_rank: int | None, tier_rank: int | None) -> bool:
    return min_rank is None or (tier_rank is not None and tier_rank >= min_rank)


def region_passes(regions: Regions, region_ids: frozenset[int]) -> bool:
    return regions is None or bool(regions & region_ids)


def type_passes(types: Regions, type_id: int | None) -> bool:
    return types is None or type_id in types


def rule_passes(min_rank: int | None, regions: Regions, types: Regions, asker: Asker) -> bool:
    """Does ``asker`` pass a (non-public) rule of tier, region and type?"""
    return (
        tier_passes(min_rank, asker.tier_rank)
        and region_passes(regions, asker.region_ids)
        and type_passes(types, asker.type_id)
    )


# -- the Django Q form -------------------------------------------------------------------------


def rule_q(asker: Asker, prefix: str) -> Q:
    """``rule_passes`` as a Q over the columns ``<prefix>min_rank``, ``<prefix>regions`` and
    ``<prefix>types`` (tokens, see PageAudience): ``audience__eff_`` for a page's compiled
    effective rule, ``own_`` for a PageAudience row's own rule."""
    rank = Q(**{f"{prefix}min_rank__isnull": True})
    if asker.tier_rank is not None:
        rank |= Q(**{f"{prefix}min_rank__lte": asker.tier_rank})
    region = Q(**{f"{prefix}regions__isnull": True})
    for region_id in sorted(asker.region_ids):
        region |= Q(**{f"{prefix}regions__contains": f"|{region_id}|"})
    ptype = Q(**{f"{prefix}types__isnull": True}) | Q(
        **{f"{prefix}types__contains": f"|{asker.type_id}|"}
    )
    return rank & region & ptype


# -- compiling down the tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    """A node's effective rule: its own AND its parent's (grants/exceptions: along the chain)."""

    public: bool = True
    min_rank: int | None = None
    regions: Regions = None
    types: Regions = None
    grants: frozenset[int] = frozenset()
    exceptions: frozenset[int] = frozenset()


UNRESTRICTED = Effective()


def intersect_regions(a: Regions, b: Regions, parents: dict[int, int | None]) -> Regions:
    """Intersect two region sets in the region hierarchy (None = all regions).

    {EMEA} ∩ {DACH} = {DACH} when DACH sits under EMEA: an organisation passes both rules exactly
    when its region (or an ancestor of it) is in the result.
    """
    if a is None:
        return b
    if b is None:
        return a

    def under(region: int, targets: frozenset[int]) -> bool:
        seen = set()
        current: int | None = region
        while current is not None and current not in seen:
            if current in targets:
                return True
            seen.add(current)
            current = parents.get(current)
        return False

    return frozenset({r for r in a if under(r, b)} | {r for r in b if under(r, a)})


def combine(
    parent: Effective,
    *,
    public: bool,
    min_rank: int | None,
    regions: Regions,
    types: Regions,
    parents: dict[int, int | None],
    grants: frozenset[int] = frozenset(),
    exceptions: frozenset[int] = frozenset(),
) -> Effective:
    """Effective rule of a node = its own rule AND its parent's effective rule."""
    chain_grants = parent.grants | grants
    chain_exceptions = parent.exceptions | exceptions
    if public:
        # A public node lets everyone through; it adds no constraint for partners.
        return Effective(
            parent.public,
            parent.min_rank,
            parent.regions,
            parent.types,
            chain_grants,
            chain_exceptions,
        )
    ranks = [r for r in (parent.min_rank, min_rank) if r is not None]
    return Effective(
        grants=chain_grants,
        exceptions=chain_exceptions,
        public=False,
        min_rank=max(ranks) if ranks else None,
        regions=intersect_regions(parent.regions, regions, parents),
        types=(
            types
            if parent.types is None
            else parent.types
            if types is None
            else parent.types & types
        ),
    )


def intersect_own(a: Effective, b: Effective, parents: dict[int, int | None]) -> Effective:
    """The AND of two nodes' own rules as one own rule (grants and exceptions are not rules:
    the caller sets them). A translation's compiled own rule is its own fields AND its source's
    (``visible(translation) = visible(source) AND own rule AND visible(parent)``, per level).

    A public rule lets everyone through, so it adds nothing; regions intersect in the region
    tree (an empty result admits nobody), types as sets, the higher minimum rank wins.
    """
    if a.public:
        return Effective(b.public, b.min_rank, b.regions, b.types)
    if b.public:
        return Effective(a.public, a.min_rank, a.regions, a.types)
    ranks = [r for r in (a.min_rank, b.min_rank) if r is not None]
    types = a.types if b.types is None else b.types if a.types is None else a.types & b.types
    return Effective(
        public=False,
        min_rank=max(ranks) if ranks else None,
        regions=intersect_regions(a.regions, b.regions, parents),
        types=types,
    )
