"""Writes of the entitlement model. Admin forms, commands, imports and the demo all come here."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm
from wagtail.models import Page

from .models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    Membership,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from .policies import parse_tokens, region_ancestry, tokens

logger = logging.getLogger("portal.permissions")

Regions = frozenset[int] | None  # None: no restriction


# --- compiled audiences ---------------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
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


def _encode(value: Regions) -> str | None:
    return None if value is None else tokens(value)


def _effective_of(row: PageAudience) -> Effective:
    return Effective(
        row.eff_public,
        row.eff_min_rank,
        parse_tokens(row.eff_regions),
        parse_tokens(row.eff_types),
        parse_tokens(row.eff_grants),
        parse_tokens(row.eff_exceptions),
    )


EFFECTIVE_FIELDS = [
    "eff_public",
    "eff_min_rank",
    "eff_regions",
    "eff_types",
    "eff_grants",
    "eff_exceptions",
]


def _effective_columns(eff: Effective) -> tuple:
    return (
        eff.public,
        eff.min_rank,
        _encode(eff.regions),
        _encode(eff.types),
        tokens(eff.grants),
        tokens(eff.exceptions),
    )


def _nearest_ancestor_effective(page: Page) -> Effective:
    paths = [page.path[: Page.steplen * d] for d in range(1, page.depth)]
    row = (
        PageAudience.objects.filter(page__path__in=paths).order_by("-page__depth").first()
        if paths
        else None
    )
    return _effective_of(row) if row else UNRESTRICTED


@transaction.atomic
def audience_compile(*, page) -> PageAudience:
    """Compile a page's live audience fields (and its subtree's effective rules) into PageAudience.

    Called on every full save of an AudienceMixin page (publish, create, import), not on
    ``save_revision`` so a draft's audience never leaks into what partners see.
    """
    parents = region_ancestry()
    tier = page.audience_min_tier
    region_ids = frozenset(r.pk for r in page.audience_regions.all()) or None
    type_ids = frozenset(t.pk for t in page.audience_partner_types.all()) or None
    own_grants, own_exceptions = _own_organization_tokens(page.pk)
    eff = combine(
        _nearest_ancestor_effective(page),
        public=page.audience_public,
        min_rank=tier.rank if tier else None,
        regions=region_ids,
        types=type_ids,
        parents=parents,
        grants=own_grants,
        exceptions=own_exceptions,
    )
    row, _ = PageAudience.objects.update_or_create(
        page_id=page.pk,
        defaults={
            "own_public": page.audience_public,
            "own_min_tier": tier,
            "own_min_rank": tier.rank if tier else None,
            "own_regions": _encode(region_ids),
            "own_types": _encode(type_ids),
            "own_grants": tokens(own_grants),
            "own_exceptions": tokens(own_exceptions),
            **dict(zip(EFFECTIVE_FIELDS, _effective_columns(eff), strict=True)),
        },
    )
    _recompute_subtree(page.path, page.depth, eff, parents)
    return row


def _recompute_rows(rows: list[PageAudience], base: dict[str, Effective], parents) -> None:
    """Recompute effective rules of ``rows`` (sorted by path) top-down and save the changes."""
    by_path = dict(base)
    changed = []
    for row in rows:
        path = row.page.path
        parent_eff = UNRESTRICTED
        for depth in range(len(path) // Page.steplen - 1, 0, -1):
            prefix = path[: Page.steplen * depth]
            if prefix in by_path:
                parent_eff = by_path[prefix]
                break
        eff = combine(
            parent_eff,
            public=row.own_public,
            min_rank=row.own_min_rank,
            regions=parse_tokens(row.own_regions),
            types=parse_tokens(row.own_types),
            parents=parents,
            grants=parse_tokens(row.own_grants) or frozenset(),
            exceptions=parse_tokens(row.own_exceptions) or frozenset(),
        )
        by_path[path] = eff
        new = _effective_columns(eff)
        if new != tuple(getattr(row, name) for name in EFFECTIVE_FIELDS):
            for name, value in zip(EFFECTIVE_FIELDS, new, strict=True):
                setattr(row, name, value)
            changed.append(row)
    PageAudience.objects.bulk_update(changed, EFFECTIVE_FIELDS, batch_size=500)


def _recompute_subtree(path: str, depth: int, eff: Effective, parents) -> None:
    rows = list(
        PageAudience.objects.filter(page__path__startswith=path, page__depth__gt=depth)
        .select_related("page")
        .only("page__path", *[f.name for f in PageAudience._meta.concrete_fields])
        .order_by("page__path")
    )
    _recompute_rows(rows, {path: eff}, parents)


@transaction.atomic
def audience_recompute_subtree(*, page: Page) -> None:
    """Re-derive the effective rules of ``page`` and everything below it (after a move)."""
    row = PageAudience.objects.filter(page_id=page.pk).first()
    parents = region_ancestry()
    if row is None:
        _recompute_subtree(page.path, page.depth, _nearest_ancestor_effective(page), parents)
        return
    rows = list(
        PageAudience.objects.filter(page__path__startswith=page.path)
        .select_related("page")
        .order_by("page__path")
    )
    _recompute_rows(rows, {page.path[: -Page.steplen]: _nearest_ancestor_effective(page)}, parents)


@transaction.atomic
def audience_recompute_all() -> int:
    """Re-derive every compiled audience (after a tier's rank or a region's parent changed)."""
    ranks = dict(Tier.objects.values_list("id", "rank"))
    rows = list(PageAudience.objects.select_related("page").order_by("page__path"))
    for row in rows:
        row.own_min_rank = ranks.get(row.own_min_tier_id) if row.own_min_tier_id else None
    PageAudience.objects.bulk_update(rows, ["own_min_rank"], batch_size=500)
    for row in rows:  # force a full rewrite of the effective columns
        row.eff_public = None
    _recompute_rows(rows, {}, region_ancestry())
    return len(rows)


# --- grants and exceptions ------------------------------------------------------------------


def _own_organization_tokens(page_id: int | None) -> tuple[frozenset[int], frozenset[int]]:
    """Guardian groups granted / excepted on exactly this page (from the guardian table)."""
    grants: set[int] = set()
    exceptions: set[int] = set()
    if page_id is not None:
        for group_id, codename in PageGroupObjectPermission.objects.filter(
            content_object_id=page_id, permission__codename__in=[GRANT_CODENAME, EXCEPTION_CODENAME]
        ).values_list("group_id", "permission__codename"):
            (grants if codename == GRANT_CODENAME else exceptions).add(group_id)
    return frozenset(grants), frozenset(exceptions)


def _page_permission(codename: str) -> Permission:
    return Permission.objects.get(
        codename=codename, content_type=ContentType.objects.get_for_model(Page)
    )


@transaction.atomic
def audience_set_organizations(
    *, page: Page, codename: str, organizations: Iterable[PartnerOrganization]
) -> None:
    """Make the set of organisations holding ``codename`` (grant/exception) on ``page`` exactly
    ``organizations``."""
    if codename not in (GRANT_CODENAME, EXCEPTION_CODENAME):
        raise ValueError(f"unknown audience permission {codename!r}")
    base_page = Page.objects.get(pk=page.pk)
    wanted = {org.group_id: org for org in organizations}
    current = set(
        PageGroupObjectPermission.objects.filter(
            content_object_id=page.pk, permission__codename=codename
        ).values_list("group_id", flat=True)
    )
    permission = _page_permission(codename)
    for group_id in current - wanted.keys():
        remove_perm(permission, Group(pk=group_id), base_page)
    for group_id in wanted.keys() - current:
        assign_perm(permission, wanted[group_id].group, base_page)
    if current != wanted.keys():
        audience_refresh_organizations(page=base_page)


@transaction.atomic
def audience_refresh_organizations(*, page: Page) -> None:
    """Mirror the page's guardian grants/exceptions into PageAudience and re-derive its subtree."""
    grants, exceptions = _own_organization_tokens(page.pk)
    updated = PageAudience.objects.filter(page_id=page.pk).update(
        own_grants=tokens(grants), own_exceptions=tokens(exceptions)
    )
    if updated:
        audience_recompute_subtree(page=page)


def audience_organizations(*, page: Page, codename: str) -> list[PartnerOrganization]:
    group_ids = PageGroupObjectPermission.objects.filter(
        content_object_id=page.pk, permission__codename=codename
    ).values_list("group_id", flat=True)
    return list(PartnerOrganization.objects.filter(group_id__in=group_ids))


def audience_set_grants(*, page: Page, organizations: Iterable[PartnerOrganization]) -> None:
    audience_set_organizations(page=page, codename=GRANT_CODENAME, organizations=organizations)


def audience_set_exceptions(*, page: Page, organizations: Iterable[PartnerOrganization]) -> None:
    audience_set_organizations(page=page, codename=EXCEPTION_CODENAME, organizations=organizations)


# --- organisations, users, memberships ------------------------------------------------------


def organization_group(*, key: str) -> Group:
    group, _ = Group.objects.get_or_create(name=f"partner-org:{key}")
    return group


@transaction.atomic
def organization_upsert(
    *,
    key: str,
    name: str,
    tier: Tier,
    region: Region,
    partner_type: PartnerType,
    country: str,
    status: str | None = None,
    contact_block: str | None = None,
    primary_color: str | None = None,
    secondary_color: str | None = None,
) -> PartnerOrganization:
    """Create or update an organisation by ``key`` (validated with full_clean).

    ``status`` None keeps the current status (new organisations start active), so an update that
    does not mention it never re-activates a suspended partner.
    """
    org = PartnerOrganization.objects.filter(key=key).first() or PartnerOrganization(key=key)
    org.name, org.tier, org.region, org.partner_type = name, tier, region, partner_type
    org.country = country.upper()
    if status is not None:
        org.status = status
    if contact_block is not None:
        org.contact_block = contact_block
    if primary_color:
        org.primary_color = primary_color
    if secondary_color:
        org.secondary_color = secondary_color
    if org.group_id is None:
        org.group = organization_group(key=key)
    org.full_clean()
    org.save()
    return org


STAFF_GROUPS = {"editor": "Editors", "marketer": "Marketers"}


@transaction.atomic
def user_upsert(
    *,
    email: str,
    password: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
    preferred_language: str | None = None,
    time_zone: str | None = None,
    organization: PartnerOrganization | None = None,
    role: str = Membership.Role.MEMBER,
    staff_role: str | None = None,
):
    """Create or update a user with either an organisation membership or a staff role.

    Profile fields left as None keep their current value. Partner users are never superusers;
    a user with neither an organisation nor a staff role loses any membership.
    """
    if organization is not None and staff_role:
        raise ValueError("a user belongs to an organisation or has a staff role, not both")
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first() or User(email=email.lower())
    for name, value in (
        ("first_name", first_name),
        ("last_name", last_name),
        ("preferred_language", preferred_language),
        ("time_zone", time_zone),
    ):
        if value is not None:
            setattr(user, name, value)
    user.is_staff = bool(staff_role)
    user.is_superuser = False if not staff_role else user.is_superuser
    if password:
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if staff_role:
        if staff_role not in STAFF_GROUPS:
            raise ValueError(f"unknown staff role {staff_role!r}")
        Membership.objects.filter(user=user).delete()
        user.groups.set([Group.objects.get(name=STAFF_GROUPS[staff_role])])
    else:
        user.groups.clear()
        if organization is not None:
            membership_set(user=user, organization=organization, role=role)
        else:
            Membership.objects.filter(user=user).delete()
    return user


@transaction.atomic
def membership_set(*, user, organization: PartnerOrganization, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"organization": organization, "role": role}
    )
    return membership


@transaction.atomic
def organization_set_status(*, organization: PartnerOrganization, status: str) -> None:
    """Suspend or re-activate. Takes effect on the members' very next request (the policy reads
    the status on every request), so a suspension locks everyone out at once."""
    organization.status = status
    organization.full_clean()
    organization.save(update_fields=["status", "updated_at"])


def audience_dimension_in_use(*, instance: Region | PartnerType) -> int:
    """How many pages name this region/type in their own audience.

    Deleting such a row would silently drop it from those audiences and *widen* them (an empty
    region list means "all regions"), so deletion is refused while this is non-zero.
    """
    column = "own_regions" if isinstance(instance, Region) else "own_types"
    return PageAudience.objects.filter(**{f"{column}__contains": f"|{instance.pk}|"}).count()


def organization_set_logo(
    *, organization: PartnerOrganization, name: str, content: bytes, stored=None
) -> PartnerOrganization:
    """Check a logo by its content, store it in the organisation's residency bucket and point
    the brand kit at it. The previous logo object is deleted once the row is saved.

    Raises:
        kb.validation.UploadRejected: the file was refused; nothing was stored.
    """
    from django.core.files.base import ContentFile

    from kb.validation import validate_upload

    name = validate_upload(name=name, content=content, kind="logo")
    old = organization.logo.name if organization.logo else ""
    organization.logo.save(name, ContentFile(content), save=False)
    if stored is not None:
        stored.paths.append(organization.logo.name)
    try:
        organization.save(update_fields=["logo", "updated_at"])
    except BaseException:
        organization.logo.storage.delete(organization.logo.name)
        raise
    if old and old != organization.logo.name:
        storage = organization.logo.storage
        transaction.on_commit(lambda: storage.delete(old))
    return organization
