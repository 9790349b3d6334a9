"""Who is asking, reduced to what the rules need (``Principal``), resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.core.cache import cache
from django.db.models import Exists, OuterRef

from ..idquery import rows_for_ids
from ..models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    Membership,
    PageGroupObjectPermission,
    PartnerOrganization,
    Region,
    Tier,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser

    # Who may ask: the portal's user model (accounts.User, an AbstractUser) or an anonymous one.
    UserLike = AbstractUser | AnonymousUser

PrincipalKind = Literal["anonymous", "staff", "partner", "suspended", "unaffiliated"]
# What a staff principal is (CLARIFICATIONS #2). "staff" alone: is_staff without a role (sees
# the admin, edits nothing). A user who is both an editor and a marketer is an editor (the wider).
StaffRole = Literal["superuser", "editor", "marketer", "staff"]

# Wagtail's own role groups. Editors and Moderators edit the source tree (their page permissions
# are on the root); marketers are the members of "Marketers" and of the per-locale groups
# "Marketers (<code>)" (created by localization.services.marketer_group_ensure). A marketer's
# locales are read from where those groups hold "change_page": the locale of each such page.
MODERATORS_GROUP = "Moderators"
EDITOR_GROUPS = frozenset({"Editors", MODERATORS_GROUP})
MARKETER_GROUP_PREFIX = "Marketers"


REGION_CACHE_KEY = "portal:region-parents"


def region_ancestry() -> dict[int, int | None]:
    """Map region id → parent id. Regions are few and rarely change: cached until one is saved or
    deleted (signal_handlers), so resolving a partner costs no query for it."""
    parents: dict[int, int | None] | None = cache.get(REGION_CACHE_KEY)
    if parents is None:
        parents = dict(Region.objects.values_list("id", "parent_id"))
        cache.set(REGION_CACHE_KEY, parents, None)
    return parents


def region_with_ancestors(region_id: int, parents: dict[int, int | None]) -> frozenset[int]:
    seen: list[int] = []
    current: int | None = region_id
    while current is not None and current not in seen:
        seen.append(current)
        current = parents.get(current)
    return frozenset(seen)


@dataclass(frozen=True)
class Principal:
    """Who is asking, reduced to what the rules need."""

    kind: PrincipalKind
    organization: PartnerOrganization | None = None
    group_id: int | None = None
    tier_rank: int | None = None
    region_ids: frozenset[int] = field(default_factory=frozenset)
    type_id: int | None = None
    has_grants: bool = False
    has_exceptions: bool = False
    # Partner only: the user is an admin of the organisation (Membership.Role.ADMIN), read with
    # the membership, so the header's "Organisation" link costs no query of its own.
    organization_admin: bool = False
    # Staff only: the role, and a marketer's locales (language codes).
    staff_role: StaffRole | None = None
    locales: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_marketer(self) -> bool:
        return self.staff_role == "marketer"

    @classmethod
    def for_organization(
        cls, org: PartnerOrganization, codenames: set[str] | None = None, admin: bool = False
    ) -> Principal:
        """``codenames``: the kinds of audience permissions the organisation holds, if known;
        ``admin``: whether the user is an admin of it (a member's principal)."""
        if not org.is_active:
            return cls(kind="suspended", organization=org, group_id=org.group_id)
        if codenames is None:
            codenames = set(
                PageGroupObjectPermission.objects.filter(group_id=org.group_id)
                .values_list("permission__codename", flat=True)
                .distinct()
            )
        return cls(
            kind="partner",
            organization=org,
            group_id=org.group_id,
            tier_rank=org.tier.rank,
            region_ids=region_with_ancestors(org.region_id, region_ancestry()),
            type_id=org.partner_type_id,
            has_grants=GRANT_CODENAME in codenames,
            has_exceptions=EXCEPTION_CODENAME in codenames,
            organization_admin=admin,
        )


def _membership_row(user_id: int) -> tuple[PartnerOrganization, bool, bool, bool] | None:
    """The user's (first) organisation with its tier, whether it holds grants/exceptions, and
    whether the user is an admin of it.

    Read on every request, so the statement is compiled once (permissions.idquery) and the
    organisation and tier are built from the row (``Model.from_db``) rather than by the ORM."""
    org_fields = [f.attname for f in PartnerOrganization._meta.concrete_fields]
    tier_fields = [f.attname for f in Tier._meta.concrete_fields]

    def holds(codename: str) -> Exists:
        return Exists(
            PageGroupObjectPermission.objects.filter(
                group_id=OuterRef("organization__group_id"), permission__codename=codename
            )
        )

    def build(id_list: Any) -> Any:
        return (
            Membership.objects.filter(user_id__in=id_list)
            .annotate(has_grants=holds(GRANT_CODENAME), has_exceptions=holds(EXCEPTION_CODENAME))
            .values_list(
                *(f"organization__{name}" for name in org_fields),
                *(f"organization__tier__{name}" for name in tier_fields),
                "has_grants",
                "has_exceptions",
                "role",
            )[:1]
        )

    rows = rows_for_ids("principal_for.membership", build, [user_id])
    if not rows:
        return None
    row = rows[0]
    organization = PartnerOrganization.from_db("default", org_fields, row[: len(org_fields)])
    tier_values = row[len(org_fields) : len(org_fields) + len(tier_fields)]
    organization.tier = Tier.from_db("default", tier_fields, tier_values)
    return organization, bool(row[-3]), bool(row[-2]), row[-1] == Membership.Role.ADMIN


def _staff_principal(user: UserLike) -> Principal:
    """A staff user's role: superuser, editor (Editors/Moderators, or change on a page of the
    source locale, e.g. the root), marketer (with the locales of the pages its marketer groups
    may change) or plain staff. One query."""
    if user.is_superuser:
        return Principal(kind="staff", staff_role="superuser")
    from django.contrib.auth.models import Group
    from wagtail.models import Locale

    default_code = Locale.get_default().language_code
    user_id = int(user.pk or 0)  # a signed-in user (principal_for checked)
    rows = Group.objects.filter(user__pk=user_id).values_list(
        "name",
        "page_permissions__permission__codename",
        "page_permissions__page__depth",
        "page_permissions__page__locale__language_code",
    )
    editor = False
    marketer = False
    locales: set[str] = set()
    for name, codename, depth, code in rows:
        is_marketer_group = name.startswith(MARKETER_GROUP_PREFIX)
        if name in EDITOR_GROUPS:
            editor = True
        elif is_marketer_group:
            marketer = True
        if codename != "change_page":
            continue
        if is_marketer_group:
            if depth is not None and depth > 1 and code and code != default_code:
                locales.add(code)
        elif depth == 1 or code == default_code:
            editor = True
    if editor:
        return Principal(kind="staff", staff_role="editor")
    if marketer:
        return Principal(kind="staff", staff_role="marketer", locales=frozenset(locales))
    return Principal(kind="staff", staff_role="staff")


def principal_for(user: UserLike | None) -> Principal:
    """Resolve (and cache on the user object, i.e. per request) what the rules need about a user."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Principal(kind="anonymous")
    cached: Principal | None = getattr(user, "_portal_principal", None)
    if cached is not None:
        return cached
    if user.is_staff or user.is_superuser:
        principal = _staff_principal(user)
    else:
        row = _membership_row(user.pk)
        if row is None:
            principal = Principal(kind="unaffiliated")
        else:
            organization, has_grants, has_exceptions, admin = row
            held = {
                code
                for code, flag in (
                    (GRANT_CODENAME, has_grants),
                    (EXCEPTION_CODENAME, has_exceptions),
                )
                if flag
            }
            principal = Principal.for_organization(organization, codenames=held, admin=admin)
    # A per-request memo on the user object (it lives as long as the request).
    setattr(user, "_portal_principal", principal)  # noqa: B010
    return principal
