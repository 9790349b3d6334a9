"""Pages (library sections and items): the instance check with its reasons, and the queryset
filter (the Django ``Q`` form of the rule) for listings and database search."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Length, Now, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from ..idquery import param, raw_param, rows_for_ids, rows_for_params
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

_QS = TypeVar("_QS", bound="QuerySet[Any]")

if TYPE_CHECKING:
    from .principal import UserLike

# The grant branch of the queryset filter finds a page's chain through the path index down to
# this depth (home 2, library 3, sections and items below); deeper chains take a slower test.
CHAIN_PROBE_DEPTH = 8


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
            type_name = (
                names.types.get(principal.type_id) if principal.type_id is not None else None
            )
            reasons.append(_("type %(type)s") % {"type": type_name})
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
            own_expire_at=getattr(page, "expire_at", None),
        )

    @classmethod
    def of_page(cls, page: Any) -> DraftRule:
        """The rule an (unsaved) page object carries in its audience fields (an editor's form,
        a revision's object): what publishing it would apply."""
        tier = getattr(page, "audience_min_tier", None) if page.audience_min_tier_id else None
        return cls(
            public=bool(page.audience_public),
            min_rank=tier.rank if tier is not None else None,
            region_ids=frozenset(r.pk for r in page.audience_regions.all()),
            type_ids=frozenset(t.pk for t in page.audience_partner_types.all()),
            grant_org_ids=frozenset(o.pk for o in page.audience_grants.all()),
            exception_org_ids=frozenset(o.pk for o in page.audience_exceptions.all()),
        )


def _held(held: set[tuple[int, int, str]], group_id: int, code: str, node: Page) -> bool:
    """Does the organisation's group hold ``code`` on ``node`` (from a prefetched set)?"""
    return (group_id, node.pk, code) in held


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
        chain, held = _chain_and_permissions(principal, page)
        return self._evaluate(
            principal, page, chain, lambda code, node: (code, node.pk) in held, names
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
        # A translation node holds its source's grants and exceptions (read from the source).
        origin = {_grants_origin(node): node.pk for node in chain}
        held = {
            (group_id, origin[page_id], code)
            for group_id, page_id, code in PageGroupObjectPermission.objects.filter(
                content_object_id__in=list(origin),
                group_id__in=[org.group_id for org in organizations],
            ).values_list("group_id", "content_object_id", "permission__codename")
        }
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
                    functools.partial(_held, held, group_id),
                    names,
                )
            results.append((org, early))
        return results

    def explain_draft(self, principal: Principal, page: Page) -> Explanation:
        """Would ``principal`` see ``page`` as it stands in the editor (an unsaved object, a new
        page included), once published? The page's own rule, grants and exceptions are read
        from its audience fields (``DraftRule.of_page``); its parents keep their applied rules.
        Explained with names, by the same rules as ``explain`` (the admin's "Preview as")."""
        early = self._early_verdict(principal, page, assume_live=True)
        if early is not None:
            return early
        rule = DraftRule.of_page(page)
        ancestors = list(
            Page.objects.filter(path__in=chain_paths(page.path)[:-1])
            .select_related("audience", "audience__source")
            .order_by("depth")
        )
        held: set[tuple[str, int]] = set()
        if principal.group_id is not None and ancestors:
            # A translation node holds its source's grants and exceptions (read from the source).
            origin = {_grants_origin(node): node.pk for node in ancestors}
            for page_id, code in PageGroupObjectPermission.objects.filter(
                content_object_id__in=list(origin),
                group_id=principal.group_id,
                permission__codename__in=[GRANT_CODENAME, EXCEPTION_CODENAME],
            ).values_list("content_object_id", "permission__codename"):
                held.add((code, origin[page_id]))
        org = principal.organization
        if org is not None and org.pk in rule.grant_org_ids:
            held.add((GRANT_CODENAME, page.pk))
        if org is not None and org.pk in rule.exception_org_ids:
            held.add((EXCEPTION_CODENAME, page.pk))
        source_live = None
        if page.pk is not None:
            row = PageAudience.objects.filter(page_id=page.pk, source__isnull=False)
            source_live = row.values_list("source__live", flat=True).first()
        chain: list[Any] = [
            *ancestors,
            _ChainNode(page.pk, page.title, rule.as_audience(page), None),
        ]
        chain[-1].source_live = source_live
        return self._evaluate(
            principal, page, chain, lambda code, node: (code, node.pk) in held, Names.load()
        )

    def _early_verdict(
        self, principal: Principal, page: Page, assume_live: bool = False
    ) -> Explanation | None:
        if principal.kind == "staff":
            return Explanation(True, _("staff see everything"))
        if not page.live and not assume_live:
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
        chain = list(
            Page.objects.filter(path__in=chain_paths(page.path))
            .select_related("audience", "audience__source")
            .order_by("depth")
        )
        for node in chain:
            audience = getattr(node, "audience", None)
            if audience is not None and audience.source_id is not None:
                node.source_live = audience.source.live
        return chain

    def _evaluate(
        self,
        principal: Principal,
        page: Page,
        chain: list[Page],
        has_perm: Callable[[str, Page], bool],
        names: Names | None = None,
    ) -> Explanation:
        if not chain or chain[-1].pk != page.pk or not hasattr(chain[-1], "audience"):
            # Fail closed: a page without a compiled audience is not a partner item.
            return Explanation(False, _("no audience defined"))
        if getattr(chain[-1], "source_live", None) is False:
            # visible(translation) needs visible(source), which needs the source live.
            return Explanation(False, _("the original of this translation is not published"))
        nodes: list[NodeVerdict] = []
        visible = True
        now = timezone.now()
        for node in chain:
            audience = getattr(node, "audience", None)
            if audience is None:
                continue  # structural pages (root, home) carry no rule
            if audience.own_expire_at is not None and audience.own_expire_at <= now:
                # Expired here or above (a translation: or its source): hidden at once, before
                # any scheduler has unpublished it.
                nodes.append(NodeVerdict(node.pk, node.title, False, [_("expired")]))
                return Explanation(False, _("expired"), nodes)
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
        # source_live: a translation is hidden while its source is not live (True otherwise).
        # eff_expire_at: the earliest expiry down the chain (and of a translation's source);
        # compared with the database's clock when the statement runs, so a statement compiled
        # once and kept (permissions.idquery) never holds a stale "now".
        base = Q(live=True, audience__isnull=False, audience__source_live=True) & (
            Q(audience__eff_expire_at__isnull=True) | Q(audience__eff_expire_at__gt=Now())
        )
        if principal.kind in ("anonymous", "unaffiliated"):
            return base & Q(audience__eff_public=True)

        rule = rule_q(principal, "audience__eff_")
        group = f"|{principal.group_id}|"
        if principal.has_grants:
            # Only pages below one of the organisation's grants can be opened by it (a LIKE on
            # the compiled chain grants); there the chain is tested node by node.
            rule |= Q(audience__eff_grants__contains=group) & self._no_blocking_node_q(principal)
        q = base & rule
        if principal.has_exceptions:
            q &= ~Q(audience__eff_exceptions__contains=group)
        return q

    def filter_visible(self, user: UserLike | None, queryset: _QS) -> _QS:
        return queryset.filter(self.visible_q(principal_for(user)))

    def visible_ids(
        self, user: UserLike | None, ids: Iterable[int], using: str = "default"
    ) -> set[int]:
        """Which of the page ids ``ids`` ``user`` may see: ``visible_q`` for a known handful of
        pages (a page of search hits), compiled once per rule key rather than per request."""
        principal = principal_for(user)
        if principal.kind == "suspended":
            return set()
        key = ("page_policy.visible_ids", self._rule_key(principal))

        def build(id_list: Any) -> Any:
            return (
                Page.objects.filter(self.visible_q(principal))
                .filter(pk__in=id_list)
                .order_by()
                .values_list("pk")
            )

        return {row[0] for row in rows_for_ids(key, build, ids, using)}

    def filter_key(self, user: UserLike | None) -> Hashable:
        """What ``filter_visible`` depends on for ``user``: users with equal keys get the same
        filter, so a statement built on it may be compiled once per key and reused
        (permissions.idquery)."""
        return self._rule_key(principal_for(user))

    @staticmethod
    def _rule_key(principal: Principal) -> Hashable:
        """Everything ``visible_q(principal)`` reads (and nothing of the tree: see
        ``_no_blocking_node_q``)."""
        return (
            principal.kind,
            principal.group_id,
            principal.tier_rank,
            principal.region_ids,
            principal.type_id,
            principal.has_grants,
            principal.has_exceptions,
        )

    def _no_blocking_node_q(self, principal: Principal) -> Q:
        """No node on the outer page's chain has an own rule the principal fails without a grant
        there.

        The chain's nodes are found through the unique path index: the outer page's path cut at
        each depth down to ``CHAIN_PROBE_DEPTH``. Deeper chains (rare) take a second, unindexed
        test over the nodes below that depth, only for pages deeper than it. A fixed depth, not
        the tree's deepest page: the filter then depends on nothing read per request (no
        ``MAX(depth)`` scan, and a statement built on it can be compiled once), and a deeper tree
        can never skip an ancestor.
        """
        blocking = self._blocking_nodes(principal)
        shallow = Q()
        for depth in range(1, CHAIN_PROBE_DEPTH + 1):
            shallow |= Q(page__path=Substr(OuterRef("path"), 1, STEPLEN * depth))
        deep = blocking.filter(
            page__depth__gt=CHAIN_PROBE_DEPTH,
            page__path=Substr(OuterRef("path"), 1, Length("page__path")),
        )
        return ~Exists(blocking.filter(shallow)) & (Q(depth__lte=CHAIN_PROBE_DEPTH) | ~Exists(deep))

    def _blocking_nodes(self, principal: Principal) -> QuerySet[PageAudience]:
        """Nodes (anywhere in the tree) whose own rule fails for the principal and that are not
        granted to it; ``_no_blocking_node_q`` narrows them to the outer page's chain."""
        fails = Q(own_public=False) & ~rule_q(principal, "own_")
        granted_here = Q(own_grants__contains=f"|{principal.group_id}|")
        return PageAudience.objects.filter(fails).exclude(granted_here)


class _ChainNode:
    """One page of a chain as the instance check reads it (``_chain_and_permissions``): like a
    Page with ``select_related("audience")``, ``audience`` is missing when the page has none."""

    __slots__ = ("audience", "pk", "source_live", "title")

    def __init__(
        self, pk: int, title: str, audience: PageAudience | None, source_live: bool | None
    ) -> None:
        self.pk, self.title = pk, title
        self.source_live = source_live  # None: not a translation
        if audience is not None:
            self.audience = audience


_AUDIENCE_OWN = ("own_public", "own_min_rank", "own_regions", "own_types", "own_expire_at")


def _chain_and_permissions(
    principal: Principal, page: Page
) -> tuple[list[_ChainNode], set[tuple[str, int]]]:
    """The chain of ``page`` (root first) with each node's own rule, and the grants and
    exceptions the principal's organisation holds on it as ``(codename, page id)``.

    One statement, compiled once per depth (permissions.idquery): the guardian rows are read
    from their table (PageGroupObjectPermission), never from the compiled PageAudience mirror,
    so the instance check stays independent of the queryset filter.
    """
    paths = chain_paths(page.path)
    perms = bool(principal.group_id and (principal.has_grants or principal.has_exceptions))

    def build() -> Any:
        chain = Page.objects.filter(path__in=[param(f"p{n}") for n in range(len(paths))])
        if perms:
            # A translation's grants and exceptions are its source's (read from the source).
            origin = Coalesce(OuterRef("audience__source_id"), OuterRef("pk"))
            chain = chain.annotate(
                **{
                    code: Exists(
                        PageGroupObjectPermission.objects.filter(
                            content_object_id=origin,
                            group_id=raw_param("group"),
                            permission__codename=code,
                        )
                    )
                    for code in (GRANT_CODENAME, EXCEPTION_CODENAME)
                }
            )
        columns = ["pk", "title", "audience__page_id", "audience__source__live"]
        columns += [f"audience__{name}" for name in _AUDIENCE_OWN]
        if perms:
            columns += [GRANT_CODENAME, EXCEPTION_CODENAME]
        return chain.order_by("depth").values_list(*columns)

    values: dict[str, object] = {f"p{n}": path for n, path in enumerate(paths)}
    if perms:
        values["group"] = principal.group_id
    rows = rows_for_params(("page_policy.chain", len(paths), perms), build, values)
    chain, held = [], set()
    for pk, title, audience_page, source_live, *rest in rows:
        audience = None
        if audience_page is not None:
            own = rest[: len(_AUDIENCE_OWN)]
            audience = PageAudience(
                page_id=audience_page, **dict(zip(_AUDIENCE_OWN, own, strict=True))
            )
        chain.append(_ChainNode(pk, title, audience, source_live))
        if perms:
            granted, excepted = rest[len(_AUDIENCE_OWN) :]
            if granted:
                held.add((GRANT_CODENAME, pk))
            if excepted:
                held.add((EXCEPTION_CODENAME, pk))
    return chain, held


def _grants_origin(node: Page) -> int:
    """The page whose guardian rows are ``node``'s grants and exceptions: a translation's
    source, else the node itself."""
    audience = getattr(node, "audience", None)
    source_id = audience.source_id if audience is not None else None
    return int(source_id) if source_id is not None else int(node.pk)


class PageAccessPolicy:
    """Who may change who can see a page (the audience fields, grants and exceptions), and who
    may preview a page as a partner would see it (``preview_as``: the same permission, since it
    names every organisation and what each may see).

    A permission of its own (``permissions.change_page_access``), held by the Editors and
    Moderators groups and by superusers; marketers edit content but never access. What a holder
    sets still applies only when an approved revision is published (services.audience_apply).
    """

    def user_has_permission(self, user: UserLike | None, action: str) -> bool:
        if action not in ("change_access", "preview_as"):
            raise ValueError(
                f"PageAccessPolicy answers 'change_access' and 'preview_as', not {action!r}"
            )
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        from ..models import CHANGE_ACCESS_PERMISSION

        return user.has_perm(CHANGE_ACCESS_PERMISSION)


page_policy = PagePolicy()
page_access_policy = PageAccessPolicy()


# --- "Preview as" (the page editor's preview of a page as a partner would see it) -----------


@dataclass(frozen=True)
class PreviewAs:
    """Whom an editor previews a page as: the principal the rules see, the name to show, and a
    user standing in for it while the page renders (the user itself, or for an organisation an
    unsaved user whose principal is the organisation's: it never reaches the database)."""

    value: str  # "org:<id>" or "user:<id>"
    label: str
    principal: Principal
    user: Any


def preview_as_choices(user: UserLike | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """What ``user`` may preview pages as, grouped for a select: the organisations, then the
    partner users (each with its organisation). Empty without the ``preview_as`` permission,
    so nobody else learns which organisations exist."""
    if not page_access_policy.user_has_permission(user, "preview_as"):
        return []
    from ..models import Membership

    orgs = [
        (f"org:{pk}", name)
        for pk, name in PartnerOrganization.objects.order_by("name").values_list("pk", "name")
    ]
    users = [
        (f"user:{user_id}", f"{email} ({org_name})")
        for user_id, email, org_name in Membership.objects.filter(user__is_active=True)
        .order_by("organization__name", "user__email")
        .values_list("user_id", "user__email", "organization__name")
    ]
    return [(_("Organisations"), orgs), (_("Partner users"), users)]


def preview_as_resolve(user: UserLike | None, value: str) -> PreviewAs | None:
    """The organisation or partner user ``value`` names ("org:<id>", "user:<id>"), if ``user``
    may preview as it; None otherwise (no permission, unknown, or not a partner user)."""
    if not page_access_policy.user_has_permission(user, "preview_as"):
        return None
    kind, _sep, raw_id = (value or "").partition(":")
    if not raw_id.isdigit() or len(raw_id) > 18:
        return None
    from django.contrib.auth import get_user_model

    from ..models import Membership

    if kind == "org":
        org = PartnerOrganization.objects.select_related("tier").filter(pk=int(raw_id)).first()
        if org is None:
            return None
        principal = Principal.for_organization(org)
        stand_in = get_user_model()(email="", is_active=True)
        # principal_for reads the principal cached on the user object: the organisation's.
        stand_in._portal_principal = principal  # type: ignore[attr-defined]
        return PreviewAs(value, org.name, principal, stand_in)
    if kind == "user":
        membership = (
            Membership.objects.select_related("user", "organization")
            .filter(user_id=int(raw_id), user__is_active=True)
            .first()
        )
        if membership is None:
            return None
        member = membership.user
        label = f"{member.email} ({membership.organization.name})"
        return PreviewAs(value, label, principal_for(member), member)
    return None
