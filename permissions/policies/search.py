"""Search: the entitlement as data for search engines (the asker as a ``SearchFilter``, each item's
audience as ``SearchAudience`` index fields), and the rule's Django ``Q`` form over a database
index of those fields (``search_index_q``: the database search backend calls it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from django.db.models import Exists, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone
from wagtail.models import Page

from ..models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
)
from .principal import Principal, principal_for
from .rule import chain_paths, parse_tokens, rule_passes, rule_q, tokens

if TYPE_CHECKING:
    from .principal import UserLike


# Search engines cannot run the queryset of pages.py, and must never be handed a list of allowed
# ids (clause limits, and every tier change would mean a reindex). Instead this module describes
# (1) the asker (``search_filter_for``) and (2) each item's audience as indexable fields
# (``search_audiences``); every search backend translates the pair into its own filter. The rules
# are the same as ``visible_q``:
#
#   visible = live AND NOT suspended AND no exception for the org on any chain node
#             AND not expired (the effective expiry, ``expire_at``, has not passed)
#             AND every chain node passes its own rule OR is granted to the org.
#
# The expiry is compared with the time of the query, not of indexing: an item drops out of
# search at its expiry time with no reindex (staff still find it).
#
# The compiled ``eff_*`` columns summarise "every chain node passes its own rule" exactly, so an
# organisation without grants needs only them. Organisations with grants are checked node by node
# against ``SearchAudience.chain`` (one entry per non-public chain node, with the organisations
# granted there), which is why a grant/exception/audience change of a node reindexes its subtree.

SearchScope = Literal["all", "none", "public", "partner"]


@dataclass(frozen=True)
class SearchFilter:
    """Who is asking, reduced to what an engine filter needs (no item ids, ever).

    ``scope``: "all" (staff: every live item), "none" (suspended), "public" (anonymous or
    unaffiliated: items public down their whole chain), "partner" (the fields below apply).
    """

    scope: SearchScope
    org_id: int | None = None
    tier_rank: int | None = None
    region_ids: frozenset[int] = field(default_factory=frozenset)  # the org's region + ancestors
    type_id: int | None = None
    has_grants: bool = False
    has_exceptions: bool = False


def search_filter_for_principal(principal: Principal) -> SearchFilter:
    if principal.kind == "staff":
        return SearchFilter(scope="all")
    if principal.kind == "suspended":
        return SearchFilter(scope="none")
    if principal.kind in ("anonymous", "unaffiliated"):
        return SearchFilter(scope="public")
    # A partner principal always carries its organisation (Principal.for_organization).
    organization = cast(PartnerOrganization, principal.organization)
    return SearchFilter(
        scope="partner",
        org_id=organization.pk,
        tier_rank=principal.tier_rank,
        region_ids=principal.region_ids,
        type_id=principal.type_id,
        has_grants=principal.has_grants,
        has_exceptions=principal.has_exceptions,
    )


def search_filter_for(user: UserLike | None) -> SearchFilter:
    """The entitlement of ``user`` as a backend-neutral search filter."""
    return search_filter_for_principal(principal_for(user))


@dataclass(frozen=True)
class ChainRule:
    """The own rule of one non-public node on an item's chain, and who is granted there.

    ``regions``/``types`` None = unrestricted; an empty set cannot occur for own rules.
    """

    page_id: int
    min_rank: int | None
    regions: frozenset[int] | None
    types: frozenset[int] | None
    granted_org_ids: frozenset[int]

    def passes(self, flt: SearchFilter) -> bool:
        return (
            rule_passes(self.min_rank, self.regions, self.types, flt)
            or flt.org_id in self.granted_org_ids
        )

    def index_fields(self) -> dict[str, object]:
        """This node as a row of a database index (read by ``search_index_q``)."""
        return {
            "min_rank": self.min_rank,
            "regions": _tokens_or_none(self.regions),
            "types": _tokens_or_none(self.types),
            "granted": tokens(self.granted_org_ids),
        }


@dataclass(frozen=True)
class SearchAudience:
    """An item's audience as index fields (see the comment above ``SearchFilter``)."""

    public: bool
    min_rank: int | None
    regions: frozenset[int] | None  # None: all regions; empty: nobody
    types: frozenset[int] | None
    excepted_org_ids: frozenset[int]  # excepted on any chain node
    granted_org_ids: frozenset[int]  # granted on any chain node
    chain: tuple[ChainRule, ...]
    # The effective expiry (PageAudience.eff_expire_at); indexed as the ``expire_at`` filter
    # field, which every backend compares with the query's time for non-staff.
    expire_at: datetime | None = None

    def visible_to(self, flt: SearchFilter, now: datetime | None = None) -> bool:
        """Plain-Python evaluation of the filter every backend must reproduce (at ``now``,
        default: the current time)."""
        if flt.scope in ("all", "none"):
            return flt.scope == "all"
        if self.expired(now):
            return False
        if flt.scope == "public":
            return self.public
        if flt.org_id in self.excepted_org_ids:
            return False
        if flt.org_id in self.granted_org_ids:
            return all(node.passes(flt) for node in self.chain)
        return rule_passes(self.min_rank, self.regions, self.types, flt)

    def expired(self, now: datetime | None = None) -> bool:
        """Has the effective expiry passed at ``now`` (default: the current time)?"""
        return self.expire_at is not None and self.expire_at <= (now or timezone.now())

    def index_fields(self) -> dict[str, object]:
        """This audience as columns of a database index (tokens as in PageAudience; read by
        ``search_index_q``). The nodes of ``chain`` go in rows of their own
        (``ChainRule.index_fields``), needed only when ``granted_org_ids`` is not empty."""
        return {
            "eff_public": self.public,
            "eff_min_rank": self.min_rank,
            "eff_regions": _tokens_or_none(self.regions),
            "eff_types": _tokens_or_none(self.types),
            "excepted_orgs": tokens(self.excepted_org_ids),
            "granted_orgs": tokens(self.granted_org_ids),
        }


def _tokens_or_none(ids: frozenset[int] | None) -> str | None:
    return None if ids is None else tokens(ids)


def search_index_q(flt: SearchFilter, *, chain: QuerySet[Any]) -> Q:
    """``SearchAudience.visible_to`` as a Q on a database index: rows holding ``live``,
    ``expire_at`` (``SearchAudience.expire_at``) and an item's
    ``SearchAudience.index_fields()``; ``chain``: the ``ChainRule.index_fields()`` rows of the
    outer row's item, correlated with ``OuterRef`` (e.g.
    ``SearchChainNode.objects.filter(entry_id=OuterRef("pk"))``).

    The rule's parts are ``rule.rule_q``, as in ``pages.PagePolicy.visible_q``. The database
    search filters its own narrow index row with this rather than joining every match to its
    page and ``PageAudience`` for ``visible_q`` itself: measured, that join doubled the scan of
    a broad query at 100k items on SQLite, and on PostgreSQL made the planner hash every
    visible page per query, a cost growing with the catalogue (docs/performance.md, "Search:
    the entitlement on the index row")."""
    if flt.scope == "none":
        return Q(pk__in=[])
    base = Q(live=True)
    if flt.scope == "all":
        return base
    # The index row's ``expire_at`` (the effective expiry) against the database's clock when
    # the statement runs: a compiled WHERE clause kept by the backend never goes stale.
    base &= Q(expire_at__isnull=True) | Q(expire_at__gt=Now())
    if flt.scope == "public":
        return base & Q(eff_public=True)
    org = f"|{flt.org_id}|"
    rule = rule_q(flt, "eff_")
    if flt.has_grants:
        granted = Q(granted_orgs__contains=org)
        # A node of the item's chain whose own rule fails and that is not granted to the org.
        blocking = chain.exclude(rule_q(flt, "")).exclude(granted__contains=org)
        # Q combined with a conditional expression is a Q (Q._combine); the stubs say Combinable.
        rule = cast(Q, (~granted & rule) | (granted & ~Exists(blocking)))
    q = base & rule
    if flt.has_exceptions:
        q &= ~Q(excepted_orgs__contains=org)
    return q


def search_audiences(pages: list[Page]) -> dict[int, SearchAudience]:
    """The indexable audience of each page in ``pages`` (items; constant number of queries).

    Pages without a compiled audience are absent from the result (fail closed: not indexed);
    a translation whose source is not live gets an audience nobody but staff passes.
    """
    if not pages:
        return {}
    paths = {prefix for page in pages for prefix in chain_paths(page.path)}
    rows = {
        row.page.path: row
        for row in PageAudience.objects.filter(page__path__in=paths).select_related("page")
    }
    # A translation node holds its source's grants and exceptions: read them from the source.
    origin = {row.page_id: row.source_id or row.page_id for row in rows.values()}
    node_ids = list(set(origin.values()))
    org_by_group = dict(
        PartnerOrganization.objects.filter(
            group_id__in=PageGroupObjectPermission.objects.filter(
                content_object_id__in=node_ids
            ).values("group_id")
        ).values_list("group_id", "id")
    )
    held: dict[tuple[int, str], set[int]] = {}
    for group_id, page_id, codename in PageGroupObjectPermission.objects.filter(
        content_object_id__in=node_ids,
        permission__codename__in=[GRANT_CODENAME, EXCEPTION_CODENAME],
    ).values_list("group_id", "content_object_id", "permission__codename"):
        if group_id in org_by_group:
            held.setdefault((page_id, codename), set()).add(org_by_group[group_id])
    out: dict[int, SearchAudience] = {}
    for page in pages:
        own = rows.get(page.path)
        if own is None:
            continue
        if not own.source_live:
            # A translation whose source is offline: indexed (staff search everything) with a
            # rule no partner and no visitor passes and no grant opens.
            out[page.pk] = SearchAudience(
                public=False,
                min_rank=None,
                regions=frozenset(),
                types=None,
                excepted_org_ids=frozenset(),
                granted_org_ids=frozenset(),
                chain=(),
                expire_at=own.eff_expire_at,
            )
            continue
        chain: list[ChainRule] = []
        excepted: set[int] = set()
        granted: set[int] = set()
        for prefix in chain_paths(page.path):
            row = rows.get(prefix)
            if row is None:
                continue
            excepted |= held.get((origin[row.page_id], EXCEPTION_CODENAME), set())
            node_granted = frozenset(held.get((origin[row.page_id], GRANT_CODENAME), set()))
            if row.own_public:
                continue  # a public node lets every partner through: no constraint
            granted |= node_granted
            chain.append(
                ChainRule(
                    page_id=row.page_id,
                    min_rank=row.own_min_rank,
                    regions=parse_tokens(row.own_regions),
                    types=parse_tokens(row.own_types),
                    granted_org_ids=node_granted,
                )
            )
        out[page.pk] = SearchAudience(
            public=own.eff_public,
            min_rank=own.eff_min_rank,
            regions=parse_tokens(own.eff_regions),
            types=parse_tokens(own.eff_types),
            excepted_org_ids=frozenset(excepted),
            granted_org_ids=frozenset(granted),
            chain=tuple(chain),
            expire_at=own.eff_expire_at,
        )
    return out
