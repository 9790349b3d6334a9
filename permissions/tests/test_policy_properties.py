"""Property test: the queryset filter, the instance check and a plain-Python oracle agree.

Hypothesis generates random tiers, regions (with parents), partner types, organisations (some
suspended), one user per organisation plus an anonymous visitor and an unaffiliated user, a tree of
items with random audiences and live states, and random grants and exceptions. For every user and
every item, all three answers must be equal. Examples: HYPOTHESIS_PROFILE=ci runs 1,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import Page

from accounts.models import User
from kb.models import LibraryIndexPage, ProductSheetPage
from kb.services import library_for_locale, site_structure_ensure
from permissions.models import PartnerOrganization, PartnerType, Region, Tier
from permissions.policies.pages import page_policy
from permissions.services import (
    audience_set_exceptions,
    audience_set_grants,
    membership_set,
    organization_upsert,
)

# --- the world, as plain data ------------------------------------------------------------------


@dataclass(frozen=True)
class NodeSpec:
    parent: int | None  # index of an earlier node, None = directly in the test section
    public: bool
    min_tier: int | None  # index into tiers
    regions: frozenset[int]  # indexes into regions; empty = all
    types: frozenset[int]  # indexes into types; empty = all
    live: bool


@dataclass(frozen=True)
class OrgSpec:
    tier: int
    region: int
    ptype: int
    suspended: bool


@dataclass(frozen=True)
class World:
    tier_ranks: tuple[int, ...]
    region_parents: tuple[int | None, ...]
    n_types: int
    orgs: tuple[OrgSpec, ...]
    section: NodeSpec  # the section all items live in (parent is ignored)
    nodes: tuple[NodeSpec, ...]
    grants: frozenset[tuple[int, int]]  # (org, node); node -1 = the section
    exceptions: frozenset[tuple[int, int]]


def _node(draw, n_tiers, n_regions, n_types, parent):
    return NodeSpec(
        parent=parent,
        public=draw(st.booleans().filter(lambda _: True)) and draw(st.integers(0, 4)) == 0,
        min_tier=draw(st.none() | st.integers(0, n_tiers - 1)),
        regions=draw(st.frozensets(st.integers(0, n_regions - 1), max_size=2)),
        types=draw(st.frozensets(st.integers(0, n_types - 1), max_size=2)),
        live=draw(st.integers(0, 9)) > 0,
    )


@st.composite
def worlds(draw) -> World:
    n_tiers = draw(st.integers(1, 4))
    ranks = tuple(sorted(draw(st.sets(st.integers(0, 9), min_size=n_tiers, max_size=n_tiers))))
    n_regions = draw(st.integers(1, 4))
    region_parents = tuple(
        draw(st.none() | st.integers(0, i - 1)) if i else None for i in range(n_regions)
    )
    n_types = draw(st.integers(1, 3))
    orgs = tuple(
        OrgSpec(
            tier=draw(st.integers(0, n_tiers - 1)),
            region=draw(st.integers(0, n_regions - 1)),
            ptype=draw(st.integers(0, n_types - 1)),
            suspended=draw(st.integers(0, 5)) == 0,
        )
        for _ in range(draw(st.integers(1, 4)))
    )
    section = _node(draw, n_tiers, n_regions, n_types, None)
    n_nodes = draw(st.integers(1, 6))
    nodes = tuple(
        _node(
            draw,
            n_tiers,
            n_regions,
            n_types,
            draw(st.none() | st.integers(0, i - 1)) if i else None,
        )
        for i in range(n_nodes)
    )
    pairs = st.tuples(st.integers(0, len(orgs) - 1), st.integers(-1, n_nodes - 1))
    grants = draw(st.frozensets(pairs, max_size=4))
    exceptions = draw(st.frozensets(pairs, max_size=2))
    return World(ranks, region_parents, n_types, orgs, section, nodes, grants, exceptions)


# --- the oracle: the rules of ARCHITECTURE.md, written out plainly ------------------------------


def _region_and_ancestors(world: World, region: int) -> set[int]:
    out: set[int] = set()
    current: int | None = region
    while current is not None:
        out.add(current)
        current = world.region_parents[current]
    return out


def _chain(world: World, index: int) -> list[int]:
    """Node indexes from the section (-1) down to ``index``."""
    chain = []
    current: int | None = index
    while current is not None:
        chain.append(current)
        current = world.nodes[current].parent
    return [-1, *reversed(chain)]


def _spec(world: World, index: int) -> NodeSpec:
    return world.section if index == -1 else world.nodes[index]


def oracle(world: World, org: int | None, index: int) -> bool:
    """org None = anonymous or unaffiliated user. The test library itself is public."""
    target = _spec(world, index)
    if not target.live:
        return False
    chain = _chain(world, index) if index != -1 else [-1]
    if org is None:
        return all(_spec(world, n).public for n in chain)
    spec = world.orgs[org]
    if spec.suspended:
        return False
    if any((org, n) in world.exceptions for n in chain):
        return False
    regions = _region_and_ancestors(world, spec.region)
    for n in chain:
        node = _spec(world, n)
        rule = node.public or (
            (
                node.min_tier is None
                or world.tier_ranks[spec.tier] >= world.tier_ranks[node.min_tier]
            )
            and (not node.regions or bool(node.regions & regions))
            and (not node.types or spec.ptype in node.types)
        )
        if not rule and (org, n) not in world.grants:
            return False
    return True


# --- building the world in the database ---------------------------------------------------------


class PolicyAgreementTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        site_structure_ensure(hostname="testserver", port=80)
        library = library_for_locale("en")
        library.audience_public = True  # so the generated section's own rules decide for anonymous
        library.save()

    def _build(self, world: World):
        tiers = [
            Tier.objects.create(key=f"t{i}", name=f"T{i}", rank=rank)
            for i, rank in enumerate(world.tier_ranks)
        ]
        regions: list[Region] = []
        for i, parent in enumerate(world.region_parents):
            regions.append(
                Region.objects.create(
                    key=f"r{i}", name=f"R{i}", parent=None if parent is None else regions[parent]
                )
            )
        types = [
            PartnerType.objects.create(key=f"p{i}", name=f"P{i}") for i in range(world.n_types)
        ]
        orgs, users = [], []
        for i, org_spec in enumerate(world.orgs):
            org = organization_upsert(
                key=f"o{i}",
                name=f"O{i}",
                tier=tiers[org_spec.tier],
                region=regions[org_spec.region],
                partner_type=types[org_spec.ptype],
                country="DE",
                status="suspended" if org_spec.suspended else "active",
            )
            user = User.objects.create_user(email=f"u{i}@example.test", password=None)
            membership_set(user=user, organization=org, role="member")
            orgs.append(org)
            users.append(user)

        def make(parent: Page, spec: NodeSpec, model, title: str):
            page = model(title=title, slug=title.lower(), live=spec.live)
            page.audience_public = spec.public
            page.audience_min_tier = None if spec.min_tier is None else tiers[spec.min_tier]
            page.audience_regions = [regions[r] for r in sorted(spec.regions)]
            page.audience_partner_types = [types[t] for t in sorted(spec.types)]
            return parent.add_child(instance=page)

        section = make(library_for_locale("en"), world.section, LibraryIndexPage, "Section")
        pages: dict[int, Page] = {-1: section}
        for i, spec in enumerate(world.nodes):
            parent = section if spec.parent is None else pages[spec.parent]
            pages[i] = make(parent, spec, ProductSheetPage, f"Item{i}")
        for codename_set, setter in (
            (world.grants, audience_set_grants),
            (world.exceptions, audience_set_exceptions),
        ):
            by_node: dict[int, list[PartnerOrganization]] = {}
            for org_index, node_index in codename_set:
                by_node.setdefault(node_index, []).append(orgs[org_index])
            for node_index, node_orgs in by_node.items():
                setter(page=pages[node_index], organizations=node_orgs)
        return pages, users

    @given(worlds())
    def test_filter_instance_check_and_oracle_agree(self, world: World):
        pages, users = self._build(world)
        ids = {index: page.pk for index, page in pages.items()}
        unaffiliated = User.objects.create_user(email="nobody@example.test", password=None)
        askers: list[tuple[User | AnonymousUser, int | None]] = [
            (AnonymousUser(), None),
            (unaffiliated, None),
        ]
        askers += [(User.objects.get(pk=u.pk), i) for i, u in enumerate(users)]
        by_pk = Page.objects.in_bulk(ids.values())
        for user, org_index in askers:
            filtered = set(
                page_policy.filter_visible(
                    user, Page.objects.filter(pk__in=ids.values())
                ).values_list("pk", flat=True)
            )
            for index, pk in ids.items():
                expected = oracle(world, org_index, index)
                page = by_pk[pk]
                checked = page_policy.can_view(user, page)
                assert checked == expected, (
                    org_index,
                    index,
                    page_policy.explain(user, page).reasons,
                )
                assert (pk in filtered) == expected, (org_index, index, "queryset filter")
