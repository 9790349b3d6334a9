"""Reads about audiences: the admin's "Who can see this" panel, applied and pending access."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from wagtail.models import Page

from .models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    AccessChange,
    AudienceMixin,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from .policies.pages import DraftRule, Explanation, page_policy
from .policies.rule import parse_tokens


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
    instead of reading the compiled region tokens themselves (files.storage uses it for data
    residency).
    """
    row = PageAudience.objects.filter(page_id=page.pk).only("eff_regions").first()
    regions = parse_tokens(row.eff_regions) if row is not None else None
    if not regions or len(regions) != 1:
        return None
    (region_id,) = regions
    return Region.objects.select_related("parent").filter(pk=region_id).first()


# --- applied and pending access ---------------------------------------------------------------


@dataclass(frozen=True)
class AccessState:
    """A page's own access, comparable: what the editor sets, or what is applied (published).

    Empty ``region_ids`` / ``type_ids`` mean "all"; grants/exceptions are organisation ids.
    """

    public: bool = False
    min_tier_id: int | None = None
    region_ids: frozenset[int] = frozenset()
    type_ids: frozenset[int] = frozenset()
    grant_ids: frozenset[int] = frozenset()
    exception_ids: frozenset[int] = frozenset()


#: The access of a page that is not visible at all yet (compared with when it goes live).
DEFAULT_ACCESS = AccessState()


def access_state_of(page: AudienceMixin) -> AccessState:
    """The access a page object carries (a draft, a revision's object or the live row)."""
    return AccessState(
        public=bool(page.audience_public),
        min_tier_id=page.audience_min_tier_id,
        region_ids=frozenset(r.pk for r in page.audience_regions.all()),
        type_ids=frozenset(t.pk for t in page.audience_partner_types.all()),
        grant_ids=frozenset(o.pk for o in page.audience_grants.all()),
        exception_ids=frozenset(o.pk for o in page.audience_exceptions.all()),
    )


def access_state_applied(*, page_id: int) -> AccessState | None:
    """The access partners get from a page now (its compiled row and guardian rows), or None
    when nothing was applied yet."""
    row = PageAudience.objects.filter(page_id=page_id).first()
    if row is None:
        return None
    grants: set[int] = set()
    exceptions: set[int] = set()
    for group_id, codename in PageGroupObjectPermission.objects.filter(
        content_object_id=page_id, permission__codename__in=[GRANT_CODENAME, EXCEPTION_CODENAME]
    ).values_list("group_id", "permission__codename"):
        (grants if codename == GRANT_CODENAME else exceptions).add(group_id)
    org_by_group = dict(
        PartnerOrganization.objects.filter(group_id__in=grants | exceptions).values_list(
            "group_id", "id"
        )
    )
    if row.translation_own is not None:
        # A translation: own_* hold its fields AND its source's rule; what was applied from
        # the translation's own fields is kept beside them. It holds no grants or exceptions.
        raw = row.translation_own
        return AccessState(
            public=bool(raw["public"]),
            min_tier_id=raw["min_tier"],
            region_ids=frozenset(raw["regions"]),
            type_ids=frozenset(raw["types"]),
            grant_ids=frozenset(),
            exception_ids=frozenset(),
        )
    return AccessState(
        public=row.own_public,
        min_tier_id=row.own_min_tier_id,
        region_ids=parse_tokens(row.own_regions) or frozenset(),
        type_ids=parse_tokens(row.own_types) or frozenset(),
        grant_ids=frozenset(org_by_group[g] for g in grants if g in org_by_group),
        exception_ids=frozenset(org_by_group[g] for g in exceptions if g in org_by_group),
    )


@dataclass(frozen=True)
class AccessDelta:
    """One difference between two AccessStates, with display values (names, not ids)."""

    field: str  # AccessChange.Field
    before: object
    after: object
    organization_id: int | None = None
    organization_name: str = ""


def access_diff(before: AccessState, after: AccessState) -> list[AccessDelta]:
    """What changes from ``before`` to ``after``: one delta per field, and one per organisation
    granted / excluded or no longer so. Empty when nothing changes (no query then)."""
    if before == after:
        return []
    Field = AccessChange.Field
    deltas: list[AccessDelta] = []
    if before.public != after.public:
        deltas.append(AccessDelta(Field.PUBLIC, before.public, after.public))
    if before.min_tier_id != after.min_tier_id:
        tier_names: dict[int | None, str] = dict(
            Tier.objects.filter(pk__in=[before.min_tier_id, after.min_tier_id]).values_list(
                "id", "name"
            )
        )
        deltas.append(
            AccessDelta(
                Field.MIN_TIER,
                tier_names.get(before.min_tier_id),
                tier_names.get(after.min_tier_id),
            )
        )
    for field, model, old, new in (
        (Field.REGIONS, Region, before.region_ids, after.region_ids),
        (Field.PARTNER_TYPES, PartnerType, before.type_ids, after.type_ids),
    ):
        if old != new:
            names = dict(model.objects.filter(pk__in=old | new).values_list("id", "name"))
            deltas.append(
                AccessDelta(
                    field,
                    sorted(names.get(i, str(i)) for i in old),
                    sorted(names.get(i, str(i)) for i in new),
                )
            )
    changed_orgs = (before.grant_ids ^ after.grant_ids) | (
        before.exception_ids ^ after.exception_ids
    )
    if changed_orgs:
        names = dict(
            PartnerOrganization.objects.filter(pk__in=changed_orgs).values_list("id", "name")
        )
        for field, old, new in (
            (Field.GRANT, before.grant_ids, after.grant_ids),
            (Field.EXCEPTION, before.exception_ids, after.exception_ids),
        ):
            for org_id in sorted(old ^ new, key=lambda i: names.get(i, "")):
                deltas.append(
                    AccessDelta(field, org_id in old, org_id in new, org_id, names.get(org_id, ""))
                )
    return deltas


@dataclass
class PendingAccess:
    """What publishing the latest revision would change in who can see a page."""

    published: bool  # live now (False: nobody outside the staff sees it yet)
    changes: list[AccessDelta]
    gains: list[PartnerOrganization] = dataclasses.field(
        default_factory=list
    )  # would start seeing it
    losses: list[PartnerOrganization] = dataclasses.field(
        default_factory=list
    )  # would stop seeing it


def audience_pending(*, page: AudienceMixin) -> PendingAccess:
    """Compare ``page`` (a draft: the latest revision's object in the editor) with the access
    applied now. Publishing that revision applies exactly these changes; ``gains`` / ``losses``
    name the organisations whose view of the page they change (as if it were live)."""
    applied = access_state_applied(page_id=page.pk) if page.pk else None
    live = bool(page.pk) and Page.objects.filter(pk=page.pk, live=True).exists()
    before = applied if (applied is not None and live) else DEFAULT_ACCESS
    draft = access_state_of(page)
    pending = PendingAccess(published=live, changes=access_diff(before, draft))
    if pending.changes and applied is not None:
        orgs = list(PartnerOrganization.objects.select_related("tier", "region", "partner_type"))
        base_page = Page.objects.get(pk=page.pk)
        base_page.live = True  # who would see it, once published
        now = {o.pk for o, e in page_policy.explain_organizations(orgs, base_page) if e.visible}
        # No minimum tier (None): pk=None matches no row, so the rank is None too.
        tier = (
            Tier.objects.filter(pk=draft.min_tier_id)  # type: ignore[misc]
            .values_list("rank", flat=True)
            .first()
        )
        rule = DraftRule(
            public=draft.public,
            min_rank=tier,
            region_ids=draft.region_ids,
            type_ids=draft.type_ids,
            grant_org_ids=draft.grant_ids,
            exception_org_ids=draft.exception_ids,
        )
        then = {
            o.pk
            for o, e in page_policy.explain_organizations(orgs, base_page, own_rule=rule)
            if e.visible
        }
        pending.gains = [o for o in orgs if o.pk in then - now]
        pending.losses = [o for o in orgs if o.pk in now - then]
    return pending


def access_change_text(change: dict[str, Any]) -> str:
    """One access change (``field``, ``before``, ``after``, ``organization``) as a sentence part,
    e.g. "minimum tier: Silver → Gold" or "granted: + Brightline"."""
    from django.utils.translation import gettext as _

    field = change.get("field")
    before, after = change.get("before"), change.get("after")
    if field in (AccessChange.Field.GRANT, AccessChange.Field.EXCEPTION):
        label = _("granted") if field == AccessChange.Field.GRANT else _("excluded")
        sign = "+" if after else "−"
        return f"{label}: {sign} {change.get('organization') or '?'}"
    labels: dict[str | None, object] = dict(AccessChange.Field.choices)
    label = str(labels.get(field, field))

    def show(value: object) -> str:
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, list):
            return ", ".join(value) if value else _("all")
        return str(value) if value is not None else _("any")

    return f"{label}: {show(before)} → {show(after)}"
