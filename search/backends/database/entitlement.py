"""The shared entitlement part of the database backend (both engines): what the index stores
about an item's audience, and the asker's entitlement as a filter on the entry rows.

The asker arrives as ``permissions.policies.SearchFilter`` and each item's audience as
``SearchAudience`` (both built by permissions/); ``SearchAudience.visible_to`` is the same rule
in plain Python and search/tests/test_no_leak.py proves both agree with the policy's queryset.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from permissions.policies.rule import tokens
from permissions.policies.search import SearchFilter

from ...documents import SearchDocument
from ...models import SearchChainNode


def _tokens_or_none(value) -> str | None:
    return None if value is None else tokens(value)


def audience_columns(doc: SearchDocument) -> dict:
    """The SearchEntry columns that carry ``doc``'s audience."""
    aud = doc.audience
    return {
        "eff_public": aud.public,
        "eff_min_rank": aud.min_rank,
        "eff_regions": _tokens_or_none(aud.regions),
        "eff_types": _tokens_or_none(aud.types),
        "excepted_orgs": tokens(aud.excepted_org_ids),
        "granted_orgs": tokens(aud.granted_org_ids),
    }


def chain_nodes(docs: list[SearchDocument]) -> list[SearchChainNode]:
    """The per-node rules of the items that carry a grant somewhere on their chain (only grant
    holders are checked node by node)."""
    return [
        SearchChainNode(
            entry_id=d.id,
            min_rank=node.min_rank,
            regions=_tokens_or_none(node.regions),
            types=_tokens_or_none(node.types),
            granted=tokens(node.granted_org_ids),
        )
        for d in docs
        if d.audience.granted_org_ids
        for node in d.audience.chain
    ]


def _rule_q(flt: SearchFilter, *, rank: str, regions: str, types: str) -> Q:
    rank_q = Q(**{f"{rank}__isnull": True}) | Q(**{f"{rank}__lte": flt.tier_rank or 0})
    region_q = Q(**{f"{regions}__isnull": True})
    for region_id in sorted(flt.region_ids):
        region_q |= Q(**{f"{regions}__contains": f"|{region_id}|"})
    type_q = Q(**{f"{types}__isnull": True})
    if flt.type_id is not None:
        type_q |= Q(**{f"{types}__contains": f"|{flt.type_id}|"})
    return rank_q & region_q & type_q


def entitlement_q(flt: SearchFilter) -> Q:
    """``flt`` (built by permissions/) as a filter on SearchEntry."""
    if flt.scope == "none":
        return Q(pk__in=[])
    base = Q(live=True)
    if flt.scope == "all":
        return base
    if flt.scope == "public":
        return base & Q(eff_public=True)
    org = f"|{flt.org_id}|"
    rule = _rule_q(flt, rank="eff_min_rank", regions="eff_regions", types="eff_types")
    if flt.has_grants:
        granted = Q(granted_orgs__contains=org)
        blocking = (
            SearchChainNode.objects.filter(entry_id=OuterRef("pk"))
            .exclude(_rule_q(flt, rank="min_rank", regions="regions", types="types"))
            .exclude(granted__contains=org)
        )
        rule = (~granted & rule) | (granted & ~Exists(blocking))
    q = base & rule
    if flt.has_exceptions:
        q &= ~Q(excepted_orgs__contains=org)
    return q
