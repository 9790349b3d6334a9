"""Reads for co-branding pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from permissions.policies.cobranding import cobrand_policy
from permissions.policies.principal import principal_for

from .models import CobrandIssue, CobrandRender
from .services import NotCobrandable, cobrand_master, render_key

if TYPE_CHECKING:
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization


def cobrand_available(*, user, item) -> bool:
    """Show the "Co-brand" button? The item has a master to co-brand and the policy lets
    ``user`` co-brand it for their own organisation."""
    organization = principal_for(user).organization
    if organization is None or not cobrand_policy.can_cobrand(user, item, organization):
        return False
    try:
        master = cobrand_master(item)
    except NotCobrandable:
        return False
    return cobrand_policy.can_use_master(user, master.file if master.kind == "document" else None)


def cobrand_render_current(
    item: PortalItemPage, organization: PartnerOrganization
) -> CobrandRender | None:
    """The render ``item`` has for ``organization`` from the CURRENT sources (any status), or
    None (never asked, or its sources changed since). No side effects; no policy check."""
    try:
        master = cobrand_master(item)
    except NotCobrandable:
        return None
    return (
        CobrandRender.objects.select_related("organization", "item")
        .filter(**render_key(item, organization, master))
        .first()
    )


@dataclass
class CobrandCopy:
    """An item the user had co-branded (the newest copy they downloaded of it)."""

    item: PortalItemPage
    at: datetime


@dataclass
class CobrandHome:
    """The home's co-brand panel: the user's recent co-branded copies and the items they may
    co-brand."""

    recent: list[CobrandCopy]
    available: list[PortalItemPage]


def cobrand_home(*, user, locale_ids: set[int], prefer: int, limit: int = 4) -> CobrandHome | None:
    """What the home's co-brand panel lists for ``user``, or None when there is nothing (not a
    partner, or nothing they may co-brand or had co-branded). Three queries at most.

    ``cobrand_policy.can_cobrand`` for the user's own organisation (the only one they may
    co-brand for; ``principal_for`` resolves it) is ``page_policy.can_view``: its queryset form
    (``visible_to``) selects the items, so a suspended organisation's member gets nothing. The
    master must be a version document_policy still serves (its queryset form), or an image; the
    item page's "Co-brand" button makes the full check (``cobrand_available``).
    """
    from django.db.models import Max, Q
    from django.utils import timezone

    from kb.models import MarketingAssetPage, PortalItemPage
    from kb.selectors import _one_per_translation_group
    from permissions.policies.files import document_policy

    organization = principal_for(user).organization
    if organization is None:
        return None
    visible = MarketingAssetPage.objects.live().visible_to(user)
    copies = list(
        CobrandIssue.objects.filter(
            user_id=user.pk, organization_id=organization.pk, item_id__in=visible.values("pk")
        )
        .values("item_id")
        .annotate(at=Max("created_at"))
        .order_by("-at")[:limit]
    )
    pages = PortalItemPage.objects.in_bulk([row["item_id"] for row in copies]) if copies else {}
    recent = [
        CobrandCopy(pages[row["item_id"]], row["at"]) for row in copies if row["item_id"] in pages
    ]
    had = {copy.item.translation_key for copy in recent}
    servable = Q(master_image__isnull=False) | (
        Q(master_document__isnull=False)
        & document_policy.servable_version_q("master_document__", timezone.now())
    )
    candidates = list(
        visible.filter(co_brandable=True, locale_id__in=locale_ids)
        .filter(servable)
        .order_by("-first_published_at", "-pk")[: limit * 3]
    )
    available = [
        item
        for item in _one_per_translation_group(candidates, prefer=prefer)
        if item.translation_key not in had
    ][:limit]
    if not recent and not available:
        return None
    return CobrandHome(recent=recent, available=available)
