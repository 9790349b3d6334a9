"""Property test: the queryset filter, the instance check and a plain-Python oracle agree.

Hypothesis generates random tiers, regions (with parents), partner types, organisations (some
suspended), one user per organisation plus an anonymous visitor and an unaffiliated user, a tree of
items with random audiences and live states, random grants and exceptions, and translation groups:
German translations of some of the items (placed under the translation of their source's parent,
as wagtail-localize places them) with their own rules and live states, carrying copied grants and
exceptions of their own that must be ignored, and sources unpublished after their translations
went live; some pages (sections, items, sources, translations) carry an expiry that has passed
(hidden at once, before any scheduler ran) or is still ahead. For every user and every page,
every exit must give the oracle's answer: the instance check (pages, images), the queryset
filter (listings), file downloads and the documents filter, and co-branding; search (both
backends) and suggest agree with the filter in search/tests/test_no_leak.py, which builds the
same worlds. Examples: HYPOTHESIS_PROFILE=ci runs
1,000.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import Locale, Page

from accounts.models import User
from files.models import PortalDocument
from kb.models import ItemAttachment, LibraryIndexPage, PortalItemPage, ProductSheetPage
from kb.services import library_for_locale, site_structure_ensure
from permissions.models import PartnerOrganization, PartnerType, Region, Tier
from permissions.policies.cobranding import cobrand_policy
from permissions.policies.files import document_policy
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
    # expire_at: None, "past" (expired, still live: no scheduler ran) or "future"
    expire: str | None = None

    @property
    def expired(self) -> bool:
        return self.expire == "past"


@dataclass(frozen=True)
class TranslationSpec:
    """The German translation of node ``source`` (-1: the section): its own rule and live
    state; its own copied grants/exceptions (``stray_orgs``) must change nothing."""

    source: int
    rule: NodeSpec  # parent is ignored: it sits under the translation of its source's parent
    stray_orgs: frozenset[int]


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
    translations: tuple[TranslationSpec, ...] = ()  # sources in tree order, parents first
    unpublished_later: frozenset[int] = frozenset()  # sources unpublished after translating


def _node(draw, n_tiers, n_regions, n_types, parent):
    return NodeSpec(
        parent=parent,
        public=draw(st.booleans().filter(lambda _: True)) and draw(st.integers(0, 4)) == 0,
        min_tier=draw(st.none() | st.integers(0, n_tiers - 1)),
        regions=draw(st.frozensets(st.integers(0, n_regions - 1), max_size=2)),
        types=draw(st.frozensets(st.integers(0, n_types - 1), max_size=2)),
        live=draw(st.integers(0, 9)) > 0,
        expire=draw(st.sampled_from([None, None, None, None, "past", "future"])),
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
    # Translation groups: a translated node's parent is translated too (its translation sits
    # under the parent's translation), the section first when anything is.
    wanted = draw(st.frozensets(st.integers(0, n_nodes - 1), max_size=n_nodes))
    translated: set[int] = set()
    for index in wanted:
        current: int | None = index
        while current is not None:
            translated.add(current)
            current = nodes[current].parent
    sources = ([-1] if translated else []) + sorted(translated)
    translations = tuple(
        TranslationSpec(
            source=source,
            rule=_node(draw, n_tiers, n_regions, n_types, None),
            stray_orgs=draw(st.frozensets(st.integers(0, len(orgs) - 1), max_size=2)),
        )
        for source in sources
    )
    unpublished_later = (
        draw(st.frozensets(st.sampled_from(sources), max_size=2)) if sources else frozenset()
    )
    return World(
        ranks,
        region_parents,
        n_types,
        orgs,
        section,
        nodes,
        grants,
        exceptions,
        translations,
        unpublished_later,
    )


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


def _own_passes(world: World, org: int | None, node: NodeSpec) -> bool:
    """One node's own rule (no grants) for organisation ``org`` (None: anonymous/unaffiliated)."""
    if node.public:
        return True
    if org is None:
        return False
    spec = world.orgs[org]
    regions = _region_and_ancestors(world, spec.region)
    return (
        (node.min_tier is None or world.tier_ranks[spec.tier] >= world.tier_ranks[node.min_tier])
        and (not node.regions or bool(node.regions & regions))
        and (not node.types or spec.ptype in node.types)
    )


def _live(world: World, index: int) -> bool:
    return _spec(world, index).live and index not in world.unpublished_later


def oracle(world: World, org: int | None, index: int) -> bool:
    """org None = anonymous or unaffiliated user. The test library itself is public."""
    if not _live(world, index):
        return False
    chain = _chain(world, index) if index != -1 else [-1]
    if any(_spec(world, n).expired for n in chain):
        return False  # expired here or above: nobody but staff, before any scheduler ran
    if org is None:
        return all(_spec(world, n).public for n in chain)
    if world.orgs[org].suspended:
        return False
    if any((org, n) in world.exceptions for n in chain):
        return False
    return all(_own_passes(world, org, _spec(world, n)) or (org, n) in world.grants for n in chain)


def translation_oracle(world: World, org: int | None, source: int) -> bool:
    """The translation of ``source``: visible(translation) = visible(source) AND own rule AND
    visible(parent), where its own rule takes its source's grants and exceptions (its own
    copied ones count for nothing) and its parent is the translation of its source's parent."""
    mine = {t.source: t for t in world.translations}
    if not oracle(world, org, source) or not mine[source].rule.live:
        return False
    chain = _chain(world, source) if source != -1 else [-1]
    if org is not None and world.orgs[org].suspended:
        return False
    if any(mine[n].rule.expired for n in chain):
        return False  # the translation or one of its (translated) parents expired
    for n in chain:  # the translation's own chain: parallel to its source's
        if not _own_passes(world, org, mine[n].rule) and not (
            org is not None and (org, n) in world.grants
        ):
            return False
    return True


# --- building the world in the database ---------------------------------------------------------


class PolicyAgreementTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        site_structure_ensure(hostname="testserver", port=80)
        for code in ("en", "de"):
            library = library_for_locale(code)
            # So the generated sections' own rules decide for anonymous visitors.
            library.audience_public = True
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

        now = timezone.now()
        expiry = {None: None, "past": now - timedelta(hours=1), "future": now + timedelta(days=1)}

        def make(parent: Page, spec: NodeSpec, model, title: str, **extra):
            page = model(title=title, slug=title.lower(), live=spec.live, **extra)
            page.expire_at = expiry[spec.expire]
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
        # Translations after the grants (they take them from their source), then the sources
        # that go offline while their translations stay live.
        german = Locale.objects.get(language_code="de")
        translated: dict[int, Page] = {}
        for tspec in world.translations:
            source = pages[tspec.source]
            if tspec.source == -1:
                parent = library_for_locale("de")
            else:
                source_parent = world.nodes[tspec.source].parent
                parent = translated[-1 if source_parent is None else source_parent]
            model = LibraryIndexPage if tspec.source == -1 else ProductSheetPage
            page = make(
                parent,
                tspec.rule,
                model,
                f"{source.title}-de",
                locale=german,
                translation_key=source.translation_key,
            )
            # A copy brings grants and exceptions of its own (wagtail-localize copies the
            # fields): applied as a publish would, they must count for nothing.
            stray = [orgs[o] for o in sorted(tspec.stray_orgs)]
            page.audience_grants = stray
            page.audience_exceptions = stray[:1]
            page.save()
            translated[tspec.source] = page
        for index in sorted(world.unpublished_later):
            if pages[index].live:
                pages[index].specific.unpublish()
        return pages, users, translated

    # Examples build a tree, translations and files: their time varies with the shared machine.
    @settings(deadline=None)
    @given(worlds())
    def test_filter_instance_check_and_oracle_agree(self, world: World):
        pages, users, translated = self._build(world)
        expectations: dict[int, Callable[[int | None], bool]] = {}
        for index, page in pages.items():
            expectations[page.pk] = functools.partial(oracle, world, index=index)
        for source, page in translated.items():
            expectations[page.pk] = functools.partial(translation_oracle, world, source=source)
        # Every item's file: one document per source item, which its translation carries too
        # (wagtail-localize copies the attachments), so a translation is a second way to it.
        documents: dict[int, PortalDocument] = {}
        for index, page in pages.items():
            if index == -1:
                continue
            document = PortalDocument.objects.create(title=f"doc{index}", file=f"t/{index}.pdf")
            documents[page.pk] = document
            ItemAttachment.objects.create(page_id=page.pk, document=document)
            if index in translated:
                documents[translated[index].pk] = document
                ItemAttachment.objects.create(page_id=translated[index].pk, document=document)
        unaffiliated = User.objects.create_user(email="nobody@example.test", password=None)
        askers: list[tuple[User | AnonymousUser, int | None]] = [
            (AnonymousUser(), None),
            (unaffiliated, None),
        ]
        askers += [(User.objects.get(pk=u.pk), i) for i, u in enumerate(users)]
        by_pk = Page.objects.in_bulk(expectations)
        for user, org_index in askers:
            filtered = set(
                page_policy.filter_visible(
                    user, Page.objects.filter(pk__in=expectations)
                ).values_list("pk", flat=True)
            )
            listed = set(
                PortalItemPage.objects.live()
                .visible_to(user)
                .filter(pk__in=expectations)
                .values_list("pk", flat=True)
            )
            files = set(
                document_policy.filter_visible(
                    user, PortalDocument.objects.filter(pk__in=[d.pk for d in documents.values()])
                ).values_list("pk", flat=True)
            )
            organization = (
                user.membership.organization
                if org_index is not None and isinstance(user, User)
                else None
            )
            for pk, expect in expectations.items():
                expected = expect(org_index)
                page = by_pk[pk]
                checked = page_policy.can_view(user, page)
                assert checked == expected, (
                    org_index,
                    page.title,
                    page_policy.explain(user, page).reasons,
                )
                assert (pk in filtered) == expected, (org_index, page.title, "queryset filter")
                if pk not in documents:
                    continue  # a section: no files, not a listed item
                assert (pk in listed) == expected, (org_index, page.title, "listing")
                document = documents[pk]
                downloads = document_policy.can_download(user, page, document)
                assert downloads == expected, (org_index, page.title, "download")
                if expected:
                    assert document.pk in files, (org_index, page.title, "documents filter")
                if organization is not None:
                    cobrands = cobrand_policy.can_cobrand(user, page, organization)
                    assert cobrands == (expected and organization.is_active), (
                        org_index,
                        page.title,
                        "co-brand",
                    )
            # A file reachable through no page the user may see is not in the filter.
            for document in documents.values():
                if document.pk in files:
                    assert any(
                        expectations[other](org_index)
                        for other, shared in documents.items()
                        if shared.pk == document.pk
                    ), (org_index, document.title, "documents filter leaks")
