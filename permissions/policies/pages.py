"""Pages (library sections and items): the instance check with its reasons, and the queryset
filter (the Django ``Q`` form of the rule) for listings and database search."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from guardian.core import ObjectPermissionChecker
from wagtail.models import Page

from ..idquery import rows_for_ids
from ..models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
    Region,
)
from .principal import Principal, principal_for, region_ancestry, region_with_ancestors
from .rule import (
    STEPLEN,
    chain_paths,
    parse_tokens,
    region_passes,
    rule_q,
    tier_passes,
    tokens,
    type_passes,
)

if TYPE_CHECKING:
    from django.db.models.expressions import RawSQL

    from .principal import UserLike

_QuerySet = TypeVar("_QuerySet", bound=QuerySet[Any, Any])
# Does the organisation hold ``codename`` (grant or exception) on this chain node?
HasPerm = Callable[[str, Page], bool]


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
    themselves that is not filtered by this policy. A page type says it is one with the class
    attribute ``audience_shell = True`` (kb.models.PortalHomePage)."""
    cls = page.specific_class or type(page)
    return bool(getattr(cls, "audience_shell", False))


@dataclass(frozen=True)
class Names:
    """Display names for reasons (loaded only when a person will read them)."""

    tiers: dict[int, str]  # rank → name
    regions: dict[int, str]
    types: dict[int, str]

    @classmethod
    def load(cls) -> Names:
        from ..models import PartnerType, Tier

        return cls(
            dict(Tier.objects.values_list("rank", "name")),
            dict(Region.objects.values_list("id", "name")),
            dict(PartnerType.objects.values_list("id", "name")),
        )

    def tier(self, rank: int | None) -> str:
        return self.tiers.get(rank, str(rank)) if rank is not None else "—"

    def join(self, table: dict[int, str], ids: Iterable[int]) -> str:
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
        passes = tier_passes(need, principal.tier_rank)
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
        passes = region_passes(regions, principal.region_ids)
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
        passes = type_passes(types, principal.type_id)
        ok = ok and passes
        if names is None:
            reasons.append(_("type matches") if passes else _("type does not match"))
        elif passes:
            # passes: the type is one of ``types``, so the principal has one.
            type_id = cast(int, principal.type_id)
            reasons.append(_("type %(type)s") % {"type": names.types.get(type_id)})
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
        organization = principal.organization
        if organization is not None and (principal.has_grants or principal.has_exceptions):
            checker = ObjectPermissionChecker(organization.group)
            # guardian reads any list of objects (its annotation says QuerySet).
            checker.prefetch_perms(chain)  # type: ignore[arg-type]
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

                def holds(code: str, node: Page, g: int = org.group_id) -> bool:
                    return (g, node.pk, code) in held

                early = self._evaluate(principal, page, chain, holds, names)
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
            Page.objects.filter(path__in=chain_paths(page.path))
            .select_related("audience")
            .order_by("depth")
        )

    def _evaluate(
        self,
        principal: Principal,
        page: Page,
        chain: list[Page],
        has_perm: HasPerm,
        names: Names | None = None,
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

        rule = rule_q(principal, "audience__eff_")
        group = f"|{principal.group_id}|"
        if principal.has_grants:
            # Only pages below one of the organisation's grants can be opened by it (a LIKE on
            # the compiled chain grants); there the chain is tested node by node.
            # Q & a conditional expression is a Q (Q._combine); the stubs say Combinable.
            rule |= cast(
                Q,
                Q(audience__eff_grants__contains=group) & ~Exists(self._blocking_nodes(principal)),
            )
        q = base & rule
        if principal.has_exceptions:
            q &= ~Q(audience__eff_exceptions__contains=group)
        return q

    def filter_visible(self, user: UserLike | None, queryset: _QuerySet) -> _QuerySet:
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

        def build(id_list: RawSQL) -> QuerySet[Page, tuple[int]]:
            rows: QuerySet[Page, tuple[int]] = (
                Page.objects.filter(self.visible_q(principal))
                .filter(pk__in=id_list)
                .order_by()
                .values_list("pk")
            )
            return rows

        return {row[0] for row in rows_for_ids(key, build, ids, using)}

    def _blocking_nodes(self, principal: Principal) -> QuerySet[PageAudience]:
        """Chain nodes of the outer page whose own rule fails and that are not granted."""
        max_depth = principal.max_page_depth()
        ancestor_paths = Q()
        for depth in range(1, max_depth + 1):
            ancestor_paths |= Q(page__path=Substr(OuterRef("path"), 1, STEPLEN * depth))
        fails = Q(own_public=False) & ~rule_q(principal, "own_")
        granted_here = Q(own_grants__contains=f"|{principal.group_id}|")
        return PageAudience.objects.filter(ancestor_paths).filter(fails).exclude(granted_here)


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
        from ..models import CHANGE_ACCESS_PERMISSION

        return user.has_perm(CHANGE_ACCESS_PERMISSION)


page_policy = PagePolicy()
page_access_policy = PageAccessPolicy()
