"""Reads about audiences for the admin (the "Who can see this" panel)."""

from __future__ import annotations

from dataclasses import dataclass

from wagtail.models import Page

from .models import PageAudience, PartnerOrganization, PartnerType, Region, Tier
from .policies import Explanation, page_policy, parse_tokens


@dataclass
class AudienceReport:
    tiers: list[Tier]
    regions: list[Region] | None  # None: all regions
    partner_types: list[PartnerType] | None
    public: bool
    visible: list[tuple[PartnerOrganization, Explanation]]
    hidden: list[tuple[PartnerOrganization, Explanation]]
    live: bool


def audience_report(*, page: Page) -> AudienceReport:
    """Which tiers, regions, types and organisations may see ``page`` as published, and why."""
    row = PageAudience.objects.filter(page_id=page.pk).first()
    min_rank = row.eff_min_rank if row else None
    region_ids = parse_tokens(row.eff_regions) if row else None
    type_ids = parse_tokens(row.eff_types) if row else None
    orgs = list(PartnerOrganization.objects.select_related("tier", "region", "partner_type"))
    base_page = Page.objects.get(pk=page.pk)
    # Evaluate as if live so editors see the audience a draft will have once published.
    base_page.live = True
    results = page_policy.explain_organizations(orgs, base_page)
    return AudienceReport(
        tiers=list(Tier.objects.filter(rank__gte=min_rank or 0)),
        regions=None if region_ids is None else list(Region.objects.filter(pk__in=region_ids)),
        partner_types=None
        if type_ids is None
        else list(PartnerType.objects.filter(pk__in=type_ids)),
        public=bool(row and row.eff_public),
        visible=[(o, e) for o, e in results if e.visible],
        hidden=[(o, e) for o, e in results if not e.visible],
        live=page.live,
    )


def item_single_region(page: Page) -> Region | None:
    """The one region an item (with its ancestors' rules) is restricted to, or None.

    None when the item is open to all regions, to several, or to nobody. Other apps ask this
    instead of reading the compiled region tokens themselves (kb.storage uses it for data
    residency).
    """
    row = PageAudience.objects.filter(page_id=page.pk).only("eff_regions").first()
    regions = parse_tokens(row.eff_regions) if row is not None else None
    if not regions or len(regions) != 1:
        return None
    (region_id,) = regions
    return Region.objects.select_related("parent").filter(pk=region_id).first()
