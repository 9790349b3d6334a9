"""The ONE place that decides who may see what.

Rules (ARCHITECTURE.md): a suspended organisation sees nothing; an exception beats everything; a
grant beats the tier/region/type rule; otherwise tier, region and type must all match. An item's
audience is inherited down the page tree and only narrows:
``visible(item) = own rule AND visible(parent)``.

Three views of the same rules live here and are tested against each other and against a separate
plain-Python oracle (tests/test_policy_properties.py):

* ``PagePolicy.filter_visible(user, qs)`` — a queryset filter built from the compiled
  ``PageAudience`` rows (effective rule per page) plus, only for organisations that have grants or
  exceptions, correlated subqueries over that organisation's guardian rows. Never a list of ids.
* ``PagePolicy.explain(user, page)`` / ``can_view`` — walks the page's chain node by node from the
  *own* rules, so it shares no code path with the compiled effective columns.
* ``PagePolicy.explain_for_organization(org, page)`` — the same walk for the editor's
  "Who can see this" panel.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from django.core.cache import cache
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from guardian.core import ObjectPermissionChecker
from wagtail.models import Page

from portal_site.idquery import rows_for_ids

from .models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    Membership,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
    Region,
    Tier,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    UserLike = AbstractBaseUser | AnonymousUser

STEPLEN = Page.steplen
PrincipalKind = Literal["anonymous", "staff", "partner", "suspended", "unaffiliated"]


def tokens(ids) -> str:
    """Encode a set of ids as ``|1|5|`` (see PageAudience)."""
    return "|" + "|".join(str(i) for i in sorted(set(ids))) + ("|" if ids else "")


def parse_tokens(value: str | None) -> frozenset[int] | None:
    if value is None:
        return None
    return frozenset(int(part) for part in value.strip("|").split("|") if part)


REGION_CACHE_KEY = "portal:region-parents"


def region_ancestry() -> dict[int, int | None]:
    """Map region id → parent id. Regions are few and rarely change: cached until one is saved or
    deleted (signal_handlers), so resolving a partner costs no query for it."""
    parents = cache.get(REGION_CACHE_KEY)
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
    # Per-request memo (the principal lives on the request's user object). Never a process-wide
    # cache: a stale max depth would skip ancestors in the grant branch and leak pages.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def max_page_depth(self) -> int:
        """The deepest page's depth, read once per request (bounds the chain walk)."""
        if "max_depth" not in self.memo:
            self.memo["max_depth"] = Page.objects.aggregate(depth=Max("depth"))["depth"] or 1
        return self.memo["max_depth"]

    @classmethod
    def for_organization(
        cls, org: PartnerOrganization, codenames: set[str] | None = None
    ) -> Principal:
        """``codenames``: the kinds of audience permissions the organisation holds, if known."""
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
        )


def _membership_row(user_id: int) -> tuple[PartnerOrganization, bool, bool] | None:
    """The user's (first) organisation with its tier, and whether it holds grants/exceptions.

    Read on every request, so the statement is compiled once (portal_site.idquery) and the
    organisation and tier are built from the row (``Model.from_db``) rather than by the ORM."""
    org_fields = [f.attname for f in PartnerOrganization._meta.concrete_fields]
    tier_fields = [f.attname for f in Tier._meta.concrete_fields]

    def holds(codename: str) -> Exists:
        return Exists(
            PageGroupObjectPermission.objects.filter(
                group_id=OuterRef("organization__group_id"), permission__codename=codename
            )
        )

    def build(id_list):
        return (
            Membership.objects.filter(user_id__in=id_list)
            .annotate(has_grants=holds(GRANT_CODENAME), has_exceptions=holds(EXCEPTION_CODENAME))
            .values_list(
                *(f"organization__{name}" for name in org_fields),
                *(f"organization__tier__{name}" for name in tier_fields),
                "has_grants",
                "has_exceptions",
            )[:1]
        )

    rows = rows_for_ids("principal_for.membership", build, [user_id])
    if not rows:
        return None
    row = rows[0]
    organization = PartnerOrganization.from_db("default", org_fields, row[: len(org_fields)])
    tier_values = row[len(org_fields) : len(org_fields) + len(tier_fields)]
    organization.tier = Tier.from_db("default", tier_fields, tier_values)
    return organization, bool(row[-2]), bool(row[-1])


def principal_for(user: UserLike | None) -> Principal:
    """Resolve (and cache on the user object, i.e. per request) what the rules need about a user."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Principal(kind="anonymous")
    cached = getattr(user, "_portal_principal", None)
    if cached is not None:
        return cached
    if user.is_staff or user.is_superuser:
        principal = Principal(kind="staff")
    else:
        row = _membership_row(user.pk)
        if row is None:
            principal = Principal(kind="unaffiliated")
        else:
            organization, has_grants, has_exceptions = row
            held = {
                code
                for code, flag in (
                    (GRANT_CODENAME, has_grants),
                    (EXCEPTION_CODENAME, has_exceptions),
                )
                if flag
            }
            principal = Principal.for_organization(organization, codenames=held)
    user._portal_principal = principal
    return principal


@dataclass
class NodeVerdict:
    """One node of an item's chain: did its own rule let the principal through, and why."""

    page_id: int
    title: str
    passes: bool
    reasons: list[str]


@dataclass
class Explanation:
    visible: bool
    summary: str
    nodes: list[NodeVerdict] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        out = [self.summary]
        for node in self.nodes:
            out.extend(f"{node.title}: {reason}" for reason in node.reasons)
        return out


def _is_shell(page: Page) -> bool:
    """Shell pages (the portal home) frame content for any signed-in user; they list nothing
    themselves that is not filtered by this policy."""
    from kb.models import PortalHomePage

    return page.specific_class is PortalHomePage or isinstance(page, PortalHomePage)


@functools.cache
def _chain_paths(path: str) -> tuple[str, ...]:
    return tuple(path[: STEPLEN * depth] for depth in range(1, len(path) // STEPLEN + 1))


@dataclass(frozen=True)
class Names:
    """Display names for reasons (loaded only when a person will read them)."""

    tiers: dict[int, str]  # rank → name
    regions: dict[int, str]
    types: dict[int, str]

    @classmethod
    def load(cls) -> Names:
        from .models import PartnerType, Tier

        return cls(
            dict(Tier.objects.values_list("rank", "name")),
            dict(Region.objects.values_list("id", "name")),
            dict(PartnerType.objects.values_list("id", "name")),
        )

    def tier(self, rank: int | None) -> str:
        return self.tiers.get(rank, str(rank)) if rank is not None else "—"

    def join(self, table: dict[int, str], ids) -> str:
        return ", ".join(sorted(table.get(i, str(i)) for i in ids)) or "—"


def _rule_verdict(
    principal: Principal, audience: PageAudience, names: Names | None = None
) -> tuple[bool, list[str]]:
    """Evaluate one node's OWN rule for a partner principal (no grants/exceptions).

    With ``names`` the reasons name tiers, regions and types ("tier Gold ≥ Gold"); without, they
    stay generic (the hot path of can_view never builds text a person will not read).
    """
    if audience.own_public:
        return True, [_("public")]
    reasons: list[str] = []
    ok = True
    need = audience.own_min_rank
    if need is None:
        reasons.append(_("any tier"))
    else:
        passes = principal.tier_rank is not None and principal.tier_rank >= need
        ok = ok and passes
        if names is None:
            reasons.append(_("tier matches") if passes else _("tier too low"))
        else:
            values = {"have": names.tier(principal.tier_rank), "need": names.tier(need)}
            reasons.append(
                (_("tier %(have)s ≥ %(need)s") if passes else _("tier %(have)s < %(need)s"))
                % values
            )
    regions = parse_tokens(audience.own_regions)
    if regions is None:
        reasons.append(_("all regions"))
    else:
        passes = bool(regions & principal.region_ids)
        ok = ok and passes
        if names is None:
            reasons.append(_("region matches") if passes else _("region does not match"))
        elif passes:
            matched = names.join(names.regions, regions & principal.region_ids)
            reasons.append(_("region %(region)s") % {"region": matched})
        else:
            reasons.append(
                _("region not in %(regions)s") % {"regions": names.join(names.regions, regions)}
            )
    types = parse_tokens(audience.own_types)
    if types is None:
        reasons.append(_("all partner types"))
    else:
        passes = principal.type_id in types
        ok = ok and passes
        if names is None:
            reasons.append(_("type matches") if passes else _("type does not match"))
        elif passes:
            reasons.append(_("type %(type)s") % {"type": names.types.get(principal.type_id)})
        else:
            reasons.append(_("type not in %(types)s") % {"types": names.join(names.types, types)})
    return ok, reasons


@dataclass(frozen=True)
class DraftRule:
    """A page's own rule as an editor set it (not applied yet), for "what would change"."""

    public: bool
    min_rank: int | None
    region_ids: frozenset[int]  # empty: all regions
    type_ids: frozenset[int]  # empty: all types
    grant_org_ids: frozenset[int]
    exception_org_ids: frozenset[int]

    def as_audience(self, page: Page) -> PageAudience:
        """An unsaved PageAudience holding this rule as the page's own (never saved)."""
        return PageAudience(
            page_id=page.pk,
            own_public=self.public,
            own_min_rank=self.min_rank,
            own_regions=tokens(self.region_ids) if self.region_ids else None,
            own_types=tokens(self.type_ids) if self.type_ids else None,
        )


class PagePolicy:
    """Access to pages (items and library sections) for the portal, search and file serving."""

    # -- instance checks --------------------------------------------------------------------
    def explain(self, user: UserLike | None, page: Page) -> Explanation:
        """Say whether ``user`` may see ``page`` and why, naming tiers, regions and types."""
        return self.explain_for_principal(principal_for(user), page, names=Names.load())

    def explain_for_organization(self, org: PartnerOrganization, page: Page) -> Explanation:
        return self.explain_for_principal(Principal.for_organization(org), page, names=Names.load())

    def explain_for_principal(
        self, principal: Principal, page: Page, names: Names | None = None
    ) -> Explanation:
        early = self._early_verdict(principal, page)
        if early is not None:
            return early
        chain = self._load_chain(page)
        checker = None
        if principal.group_id and (principal.has_grants or principal.has_exceptions):
            checker = ObjectPermissionChecker(principal.organization.group)
            checker.prefetch_perms(chain)
        return self._evaluate(
            principal,
            page,
            chain,
            lambda code, node: checker is not None and checker.has_perm(code, node),
            names,
        )

    def explain_organizations(
        self,
        organizations: list[PartnerOrganization],
        page: Page,
        own_rule: DraftRule | None = None,
    ) -> list[tuple[PartnerOrganization, Explanation]]:
        """Explain ``page`` for many organisations with a constant number of queries.

        ``own_rule``: evaluate with this rule on the page itself instead of its applied one (what
        publishing a draft would give; its parents keep their applied rules).
        """
        chain = self._load_chain(page)
        held = set(
            PageGroupObjectPermission.objects.filter(
                content_object_id__in=[node.pk for node in chain],
                group_id__in=[org.group_id for org in organizations],
            ).values_list("group_id", "content_object_id", "permission__codename")
        )
        if own_rule is not None and chain and chain[-1].pk == page.pk:
            chain[-1].audience = own_rule.as_audience(page)
            held = {entry for entry in held if entry[1] != page.pk}
            for org in organizations:
                if org.pk in own_rule.grant_org_ids:
                    held.add((org.group_id, page.pk, GRANT_CODENAME))
                if org.pk in own_rule.exception_org_ids:
                    held.add((org.group_id, page.pk, EXCEPTION_CODENAME))
        parents = region_ancestry()
        names = Names.load()
        results = []
        for org in organizations:
            principal = Principal(
                kind="partner" if org.is_active else "suspended",
                organization=org,
                group_id=org.group_id,
                tier_rank=org.tier.rank,
                region_ids=region_with_ancestors(org.region_id, parents),
                type_id=org.partner_type_id,
            )
            early = self._early_verdict(principal, page)
            if early is None:
                group_id = org.group_id
                early = self._evaluate(
                    principal,
                    page,
                    chain,
                    lambda code, node, g=group_id: (g, node.pk, code) in held,
                    names,
                )
            results.append((org, early))
        return results

    def _early_verdict(self, principal: Principal, page: Page) -> Explanation | None:
        if principal.kind == "staff":
            return Explanation(True, _("staff see everything"))
        if not page.live:
            return Explanation(False, _("not published"))
        if _is_shell(page):
            # The home frames content; suspended members see it with a notice and no items.
            if principal.kind == "anonymous":
                return Explanation(False, _("log in to see the portal"))
            return Explanation(True, _("portal home"))
        if principal.kind == "suspended":
            return Explanation(False, _("the organisation is suspended"))
        return None

    @staticmethod
    def _load_chain(page: Page) -> list[Page]:
        return list(
            Page.objects.filter(path__in=_chain_paths(page.path))
            .select_related("audience")
            .order_by("depth")
        )

    def _evaluate(
        self, principal: Principal, page: Page, chain: list[Page], has_perm, names=None
    ) -> Explanation:
        if not chain or chain[-1].pk != page.pk or not hasattr(chain[-1], "audience"):
            # Fail closed: a page without a compiled audience is not a partner item.
            return Explanation(False, _("no audience defined"))
        nodes: list[NodeVerdict] = []
        visible = True
        for node in chain:
            audience = getattr(node, "audience", None)
            if audience is None:
                continue  # structural pages (root, home) carry no rule
            if has_perm(EXCEPTION_CODENAME, node):
                nodes.append(NodeVerdict(node.pk, node.title, False, [_("explicit exception")]))
                return Explanation(False, _("excluded by an explicit exception"), nodes)
            if principal.kind in ("anonymous", "unaffiliated"):
                passes = audience.own_public
                reasons = [_("public") if passes else _("not public")]
            else:
                passes, reasons = _rule_verdict(principal, audience, names)
                if not passes and has_perm(GRANT_CODENAME, node):
                    passes, reasons = True, [_("granted explicitly"), *reasons]
            nodes.append(NodeVerdict(node.pk, node.title, passes, reasons))
            visible = visible and passes
        if visible:
            summary = _("visible: every rule down the tree matches")
        else:
            summary = _("hidden: a rule on this page or a parent does not match")
        return Explanation(visible, summary, nodes)

    def can_view(self, user: UserLike | None, page: Page) -> bool:
        """May ``user`` see ``page``? (The instance check behind every detail and download.)"""
        return self.explain_for_principal(principal_for(user), page).visible

    # Wagtail's permission-policy interface, for code that speaks it.
    def user_has_permission_for_instance(self, user, action: str, instance: Page) -> bool:
        if action != "view":
            raise ValueError(f"PagePolicy answers only 'view', not {action!r}")
        return self.can_view(user, instance)

    def instances_user_has_permission_for(self, user, action: str) -> QuerySet:
        if action != "view":
            raise ValueError(f"PagePolicy answers only 'view', not {action!r}")
        return self.filter_visible(user, Page.objects.all())

    # -- queryset filter --------------------------------------------------------------------
    def visible_q(self, principal: Principal) -> Q:
        """A Q on a Page-derived queryset selecting what ``principal`` may see."""
        if principal.kind == "staff":
            return Q()
        if principal.kind == "suspended":
            return Q(pk__in=[])
        base = Q(live=True, audience__isnull=False)
        if principal.kind in ("anonymous", "unaffiliated"):
            return base & Q(audience__eff_public=True)

        rule = self._effective_rule_q(principal)
        group = f"|{principal.group_id}|"
        if principal.has_grants:
            # Only pages below one of the organisation's grants can be opened by it (a LIKE on
            # the compiled chain grants); there the chain is tested node by node.
            rule |= Q(audience__eff_grants__contains=group) & ~Exists(
                self._blocking_nodes(principal)
            )
        q = base & rule
        if principal.has_exceptions:
            q &= ~Q(audience__eff_exceptions__contains=group)
        return q

    def filter_visible(self, user: UserLike | None, queryset: QuerySet) -> QuerySet:
        return queryset.filter(self.visible_q(principal_for(user)))

    def visible_ids(
        self, user: UserLike | None, ids: Iterable[int], using: str = "default"
    ) -> set[int]:
        """Which of the page ids ``ids`` ``user`` may see: ``visible_q`` for a known handful of
        pages (a page of search hits), compiled once per rule key rather than per request."""
        principal = principal_for(user)
        if principal.kind == "suspended":
            return set()
        key = (
            "page_policy.visible_ids",
            principal.kind,
            principal.group_id,
            principal.tier_rank,
            principal.region_ids,
            principal.type_id,
            principal.has_grants,
            principal.has_exceptions,
            principal.max_page_depth() if principal.has_grants else 0,
        )

        def build(id_list):
            return (
                Page.objects.filter(self.visible_q(principal))
                .filter(pk__in=id_list)
                .order_by()
                .values_list("pk")
            )

        return {row[0] for row in rows_for_ids(key, build, ids, using)}

    def _effective_rule_q(self, principal: Principal, prefix: str = "audience__eff_") -> Q:
        rank = Q(**{f"{prefix}min_rank__isnull": True}) | Q(
            **{f"{prefix}min_rank__lte": principal.tier_rank}
        )
        region = Q(**{f"{prefix}regions__isnull": True})
        for region_id in sorted(principal.region_ids):
            region |= Q(**{f"{prefix}regions__contains": f"|{region_id}|"})
        ptype = Q(**{f"{prefix}types__isnull": True}) | Q(
            **{f"{prefix}types__contains": f"|{principal.type_id}|"}
        )
        return rank & region & ptype

    def _blocking_nodes(self, principal: Principal) -> QuerySet:
        """Chain nodes of the outer page whose own rule fails and that are not granted."""
        max_depth = principal.max_page_depth()
        ancestor_paths = Q()
        for depth in range(1, max_depth + 1):
            ancestor_paths |= Q(page__path=Substr(OuterRef("path"), 1, STEPLEN * depth))
        own_region = Q(own_regions__isnull=True)
        for region_id in sorted(principal.region_ids):
            own_region |= Q(own_regions__contains=f"|{region_id}|")
        fails = Q(own_public=False) & (
            Q(own_min_rank__gt=principal.tier_rank)
            | ~own_region
            | ~(Q(own_types__isnull=True) | Q(own_types__contains=f"|{principal.type_id}|"))
        )
        granted_here = Q(own_grants__contains=f"|{principal.group_id}|")
        return PageAudience.objects.filter(ancestor_paths).filter(fails).exclude(granted_here)


class DocumentPolicy:
    """Files: downloadable when attached to (or the master of) an item the user may see."""

    def filter_visible(self, user: UserLike | None, queryset: QuerySet) -> QuerySet:
        principal = principal_for(user)
        if principal.kind == "staff":
            return queryset
        from kb.models import PortalItemPage

        visible_items = PortalItemPage.objects.filter(page_policy.visible_q(principal))
        return queryset.filter(
            Q(attachments__page__in=visible_items) | Q(master_of__in=visible_items)
        ).distinct()

    def can_download(self, user: UserLike | None, item: Page, document) -> bool:
        """May ``user`` download ``document`` as a file of ``item``?"""
        if not page_policy.can_view(user, item):
            return False
        specific = item.specific
        from kb.models import PortalItemPage

        if not isinstance(specific, PortalItemPage):
            # A section or the home has no files: the URL names no item, the same 404 as a
            # hidden one (staff included, so the answer never says which pages exist).
            return False
        attached = specific.attachments.filter(document_id=document.pk).exists()
        master = getattr(specific, "master_document_id", None) == document.pk
        return attached or master

    def can_serve_directly(self, user: UserLike | None, document) -> bool:
        """Wagtail's own /documents/ URL (used by the admin): staff, or a visible item's file."""
        return self.filter_visible(user, type(document).objects.filter(pk=document.pk)).exists()


class MediaPolicy:
    """Raw media files under ``/media/`` (the admin's thumbnails and originals): staff only,
    and per file the same answer as everywhere else. Partners use the item views."""

    def can_browse(self, user: UserLike | None) -> bool:
        return principal_for(user).kind == "staff"

    def can_read(self, user: UserLike | None, name: str) -> bool:
        """May ``user`` read the stored file ``name`` through ``/media/``?

        Images (originals and renditions: the admin shows them) for staff; a document when the
        document policy lets the user have it; co-brand renders and brand-kit logos never here
        (they have their own checked views: ``CobrandPolicy``, ``BrandKitPolicy``); a name that
        no image or document row points at: never (fail closed)."""
        if not self.can_browse(user) or not name:
            return False
        from kb.models import PortalDocument, PortalImage, PortalRendition

        if PortalImage.objects.filter(file=name).exists():
            return True
        if PortalRendition.objects.filter(file=name).exists():
            return True
        document = PortalDocument.objects.filter(file=name).first()
        if document is not None:
            return document_policy.can_serve_directly(user, document)
        return False


class BrandKitPolicy:
    """An organisation's brand-kit files (its logo): that organisation's members while it is
    active, and staff who may edit organisations (they manage brand kits in the admin).
    Never other organisations, never anonymous visitors, never through ``/media/``."""

    def can_view_logo(self, user: UserLike | None, organization: PartnerOrganization) -> bool:
        principal = principal_for(user)
        if principal.kind == "partner" and principal.organization is not None:
            return principal.organization.pk == organization.pk
        if principal.kind == "staff":
            return user.has_perm("permissions.change_partnerorganization")
        return False


class CobrandPolicy:
    """Co-brand renders (kb.cobranding): a partner of an active organisation, only for that
    organisation, only of an item they may see. Staff and other organisations: never (a render
    carries one organisation's brand kit and is that organisation's file)."""

    def can_cobrand(
        self, user: UserLike | None, item: Page, organization: PartnerOrganization
    ) -> bool:
        """May ``user`` have ``item`` co-branded for ``organization``?"""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None:
            return False
        if principal.organization.pk != organization.pk:
            return False
        return page_policy.can_view(user, item)

    def can_download(self, user: UserLike | None, render) -> bool:
        """May ``user`` download ``render`` (a kb.cobranding CobrandRender)?"""
        return self.can_cobrand(user, render.item, render.organization)

    # Wagtail's permission-policy interface, for code that speaks it.
    def user_has_permission_for_instance(self, user, action: str, instance) -> bool:
        if action != "download":
            raise ValueError(f"CobrandPolicy answers only 'download', not {action!r}")
        return self.can_download(user, instance)


class PageAccessPolicy:
    """Who may change who can see a page (the audience fields, grants and exceptions).

    A permission of its own (``permissions.change_page_access``), held by the Editors and
    Moderators groups and by superusers; marketers edit content but never access. What a holder
    sets still applies only when an approved revision is published (services.audience_apply).
    """

    def user_has_permission(self, user: UserLike | None, action: str) -> bool:
        if action != "change_access":
            raise ValueError(f"PageAccessPolicy answers only 'change_access', not {action!r}")
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        from .models import CHANGE_ACCESS_PERMISSION

        return user.has_perm(CHANGE_ACCESS_PERMISSION)

    def user_has_permission_for_instance(self, user, action: str, instance: Page) -> bool:
        # The permission is not per page (yet): page-level limits come with the locales.
        return self.user_has_permission(user, action)


page_policy = PagePolicy()
page_access_policy = PageAccessPolicy()
document_policy = DocumentPolicy()
media_policy = MediaPolicy()
brandkit_policy = BrandKitPolicy()
cobrand_policy = CobrandPolicy()


def can_view(user: UserLike | None, item: Page) -> bool:
    """Module-level shortcut: may ``user`` see ``item``?"""
    return page_policy.can_view(user, item)


def explain(user: UserLike | None, item: Page) -> Explanation:
    return page_policy.explain(user, item)


def visible_to(user: UserLike | None, queryset: QuerySet) -> QuerySet:
    return page_policy.filter_visible(user, queryset)


# -- search: the entitlement as data for search engines --------------------------------------
#
# Search engines cannot run the queryset above, and must never be handed a list of allowed ids
# (clause limits, and every tier change would mean a reindex). Instead this module describes
# (1) the asker (``search_filter_for``) and (2) each item's audience as indexable fields
# (``search_audiences``); every search backend translates the pair into its own filter. The rules
# are the same as ``visible_q``:
#
#   visible = live AND NOT suspended AND no exception for the org on any chain node
#             AND every chain node passes its own rule OR is granted to the org.
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
    return SearchFilter(
        scope="partner",
        org_id=principal.organization.pk,
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
            (self.min_rank is None or (flt.tier_rank or 0) >= self.min_rank)
            and (self.regions is None or bool(self.regions & flt.region_ids))
            and (self.types is None or flt.type_id in self.types)
        ) or flt.org_id in self.granted_org_ids


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

    def visible_to(self, flt: SearchFilter) -> bool:
        """Plain-Python evaluation of the filter every backend must reproduce."""
        if flt.scope in ("all", "none"):
            return flt.scope == "all"
        if flt.scope == "public":
            return self.public
        if flt.org_id in self.excepted_org_ids:
            return False
        if flt.org_id in self.granted_org_ids:
            return all(node.passes(flt) for node in self.chain)
        return (
            (self.min_rank is None or (flt.tier_rank or 0) >= self.min_rank)
            and (self.regions is None or bool(self.regions & flt.region_ids))
            and (self.types is None or flt.type_id in self.types)
        )


def search_audiences(pages: list[Page]) -> dict[int, SearchAudience]:
    """The indexable audience of each page in ``pages`` (items; constant number of queries).

    Pages without a compiled audience are absent from the result (fail closed: not indexed).
    """
    if not pages:
        return {}
    chain_paths = {prefix for page in pages for prefix in _chain_paths(page.path)}
    rows = {
        row.page.path: row
        for row in PageAudience.objects.filter(page__path__in=chain_paths).select_related("page")
    }
    node_ids = [row.page_id for row in rows.values()]
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
        chain: list[ChainRule] = []
        excepted: set[int] = set()
        granted: set[int] = set()
        for prefix in _chain_paths(page.path):
            row = rows.get(prefix)
            if row is None:
                continue
            excepted |= held.get((row.page_id, EXCEPTION_CODENAME), set())
            node_granted = frozenset(held.get((row.page_id, GRANT_CODENAME), set()))
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
        )
    return out


class LoginLockoutPolicy:
    """Login lockouts (django-axes' failed-attempt rows): who may list them and lift them.

    Superusers, and staff given axes' model permissions in a Wagtail group (the group editor shows
    them: accounts/wagtail_hooks.py): "view" = view or delete access attempts, "lift" = delete.
    """

    PERMISSIONS = {
        "view": ("axes.view_accessattempt", "axes.delete_accessattempt"),
        "lift": ("axes.delete_accessattempt",),
    }

    def user_has_permission(self, user: UserLike | None, action: str) -> bool:
        """May ``user`` do ``action`` ("view" or "lift") on login lockouts?"""
        if action not in self.PERMISSIONS:
            raise ValueError(f"LoginLockoutPolicy answers 'view' or 'lift', not {action!r}")
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return any(user.has_perm(perm) for perm in self.PERMISSIONS[action])


login_lockout_policy = LoginLockoutPolicy()
