"""Benchmark the partner library listing: SQL queries per render and the entitlement filter's cost.

Usage (from the project root)::

    .venv/bin/python bench/listing.py [--sizes 100,1000,10000] [--repeat 15]
    .venv/bin/python bench/listing.py --database-url postgresql://postgres@127.0.0.1:5432/bench_listing

It builds its own throwaway database (SQLite in a temporary folder unless ``--database-url`` names a
PostgreSQL database, which is created when missing) and its own MEDIA_ROOT, seeds a partner world,
then for each size (seeded cumulatively) measures, for one partner user:

* SQL queries per render of the library section (django.test.Client, pages 1, 2 and the last);
  goal: at most 20 and the same at every size;
* the filtered page (``kb.selectors.library_listing`` + the page's rows and count) against a plain
  ``PortalItemPage.objects.live()`` page of the same section scope, page size and page number,
  interleaved in the same run, medians over ``--repeat``; goal: ratio at most 1.5;
* the full HTTP render time (for information).

``--prototype`` also times three bench-only PROTOTYPES of the policy's grant/exception tests (see
``prototype_policies``) and checks that they select exactly the same items. ``--breakdown`` times
each part of the predicate and the fixed per-request costs at the largest size; ``--explain``
prints the database's plans; ``--show-queries`` lists the queries of one render. ``--json PATH``
writes all results (used for docs/performance.md).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GOAL_MAX_QUERIES = 20
GOAL_MAX_RATIO = 1.5
SEED = 20240611
BATCH = 500  # items per transaction while seeding


# --- configuration (before django.setup) ---------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100,1000,10000",
        help="comma-separated item counts, seeded cumulatively (default: 100,1000,10000)",
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed repeats per measure")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL of a throwaway database (default: SQLite in a temporary folder)",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="drop and re-create the --database-url database if it already exists",
    )
    parser.add_argument(
        "--seed",
        choices=("bulk", "treebeard"),
        default="bulk",
        help="bulk: bulk inserts + audience_recompute_all (default); treebeard: add_child per "
        "item, which compiles each audience on save (about 30 ms an item)",
    )
    parser.add_argument(
        "--prototype", action="store_true", help="also time the bench-only policy prototypes"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time each part of the cost at the last size"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the query plans at the last size"
    )
    parser.add_argument(
        "--show-queries", action="store_true", help="list the queries of one render"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not args.sizes or args.sizes[0] < 1:
        parser.error("--sizes needs positive integers")
    if args.repeat < 3:
        parser.error("--repeat must be at least 3")
    return args


def ensure_postgres_database(url: str, *, recreate: bool) -> None:
    """Create the benchmark's PostgreSQL database when missing (autocommit: CREATE DATABASE)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure(args: argparse.Namespace) -> Path:
    """Point Django at a throwaway database and media folder, then set it up and migrate."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal_site.settings.dev")
    tmp = Path(tempfile.mkdtemp(prefix="bench-listing-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if url.startswith(("postgres://", "postgresql://")):
        ensure_postgres_database(url, recreate=args.recreate)
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    # One connection for the whole run, as a production worker keeps it (CONN_MAX_AGE).
    os.environ["DATABASE_CONN_MAX_AGE"] = "600"

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command

    # Production does not log every query; the dev settings' DEBUG=True would add a wrapper per
    # query to both sides of the comparison. CaptureQueriesContext still counts with DEBUG off.
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    return tmp


# --- the partner world -----------------------------------------------------------------------


@dataclass
class Node:
    """Where a page sits in the tree (enough to add children below it)."""

    path: str
    depth: int
    url_path: str


@dataclass
class World:
    """Everything the seeder and the measures share."""

    rng: random.Random
    tiers: dict
    regions: dict
    types: dict
    products: list
    partner_org: object
    other_orgs: list
    partner: object
    others: list  # members of other organisations, for the prototype's equivalence check
    library: object
    sections: list  # (Node, weight)
    permissions: dict  # codename -> Permission
    parents: list = field(default_factory=list)  # items at depth <= 5 that may get children
    last_child: dict = field(default_factory=dict)  # path -> last child's step number
    created: int = 0


def build_world() -> World:
    """Tiers, regions, types, ~20 organisations, the measured partner and the library sections."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from kb.models import LibraryIndexPage, PortalItemPage
    from kb.services import library_for_locale, product_ensure, site_structure_ensure
    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME, PartnerType, Region, Tier
    from permissions.services import audience_set_grants, organization_upsert, user_upsert

    if PortalItemPage.objects.exists():
        raise SystemExit(
            "the benchmark database already holds items; pass --recreate (PostgreSQL) "
            "or use a fresh database"
        )
    rng = random.Random(SEED)
    site_structure_ensure(hostname="testserver", port=80)
    tiers = {
        key: Tier.objects.get_or_create(key=key, defaults={"name": key.title(), "rank": rank})[0]
        for rank, key in enumerate(("registered", "silver", "gold", "platinum"), start=1)
    }
    regions = {
        key: Region.objects.get_or_create(key=key, defaults={"name": key.upper()})[0]
        for key in ("emea", "apac", "na", "latam")
    }
    regions["dach"] = Region.objects.get_or_create(
        key="dach", defaults={"name": "DACH", "parent": regions["emea"]}
    )[0]
    types = {
        key: PartnerType.objects.get_or_create(key=key, defaults={"name": key.title()})[0]
        for key in ("reseller", "distributor", "referral")
    }
    products = [product_ensure(name=f"Product {n:02d}") for n in range(1, 13)]

    partner_org = organization_upsert(
        key="bench-partner",
        name="Bench Partner GmbH",
        tier=tiers["silver"],
        region=regions["dach"],
        partner_type=types["reseller"],
        country="DE",
    )
    other_orgs = [
        organization_upsert(
            key=f"org-{n:02d}",
            name=f"Organisation {n:02d}",
            tier=rng.choice(list(tiers.values())),
            region=rng.choice(list(regions.values())),
            partner_type=rng.choice(list(types.values())),
            country=rng.choice(["DE", "FR", "US", "BR", "JP", "GB"]),
        )
        for n in range(1, 20)
    ]
    partner = user_upsert(
        email="partner@bench.example",
        password=None,
        preferred_language="en",
        organization=partner_org,
    )
    others = [
        user_upsert(
            email=f"member-{org.key}@bench.example",
            password=None,
            preferred_language="en",
            organization=org,
        )
        for org in other_orgs[:4]
    ]

    library = library_for_locale("en")
    specs = [
        ("Product sheets", "products", 0.35, {}),
        ("Training", "training", 0.20, {}),
        ("Marketing EMEA", "marketing-emea", 0.20, {"regions": [regions["emea"]]}),
        ("Gold programme", "gold-programme", 0.15, {"min_tier": tiers["gold"]}),
    ]
    sections = []
    for title, slug, weight, rule in specs:
        section = LibraryIndexPage(
            title=title, slug=slug, audience_min_tier=rule.get("min_tier"), locale=library.locale
        )
        section.audience_regions = rule.get("regions", [])
        library.add_child(instance=section)
        section.save_revision().publish()
        section.refresh_from_db()
        sections.append((Node(section.path, section.depth, section.url_path), weight))
    # The measured partner holds a grant on the whole gold section: the grant branch of the
    # filter (grant on the chain, no blocking node below it) decides those items.
    gold = LibraryIndexPage.objects.get(path=sections[3][0].path)
    audience_set_grants(page=gold, organizations=[partner_org, other_orgs[0]])
    page_ct = ContentType.objects.get_for_model(Page)
    permissions = {
        code: Permission.objects.get(codename=code, content_type=page_ct)
        for code in (GRANT_CODENAME, EXCEPTION_CODENAME)
    }
    library = LibraryIndexPage.objects.get(pk=library.pk)
    return World(
        rng=rng,
        tiers=tiers,
        regions=regions,
        types=types,
        products=products,
        partner_org=partner_org,
        other_orgs=other_orgs,
        partner=partner,
        others=others,
        library=library,
        sections=sections,
        permissions=permissions,
    )


KINDS = ("product_sheet", "training_guide", "marketing_asset")


def random_audience(world: World) -> dict:
    """An item's own rule: ≈40% unrestricted, 5% public, the rest tier / regions / types."""
    rng = world.rng
    tiers = [world.tiers[k] for k in ("silver", "gold", "platinum")]
    regions = list(world.regions.values())
    types = list(world.types.values())
    roll = rng.random()
    rule: dict = {"public": False, "min_tier": None, "regions": [], "types": []}
    if roll < 0.40:
        pass
    elif roll < 0.45:
        rule["public"] = True
    elif roll < 0.60:
        rule["min_tier"] = rng.choice(tiers)
    elif roll < 0.75:
        rule["regions"] = rng.sample(regions, rng.choice((1, 2)))
    elif roll < 0.85:
        rule["types"] = rng.sample(types, rng.choice((1, 2)))
    elif roll < 0.95:
        rule["min_tier"] = rng.choice(tiers)
        rule["regions"] = rng.sample(regions, 1)
    else:
        rule["min_tier"] = rng.choice(tiers)
        rule["types"] = rng.sample(types, 1)
    return rule


@dataclass
class Planned:
    parent: Node
    page: object  # an unsaved ProductSheetPage / TrainingGuidePage / MarketingAssetPage
    rule: dict
    perms: list  # (group_id, codename) grants and exceptions to add on this page


def plan_item(world: World, n: int, now: datetime) -> Planned:
    """Choose where item ``n`` goes, its kind, dates, product, audience, grants and exceptions."""
    from kb.models.pages import MODEL_BY_CONTENT_KIND
    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME

    rng = world.rng
    roll = rng.random()
    if roll < 0.15 and world.parents:
        parent = rng.choice(world.parents)  # a child item (depth 5 or 6)
    elif roll < 0.25:
        parent = Node(world.library.path, world.library.depth, world.library.url_path)
    else:
        parent = rng.choices([s for s, _ in world.sections], [w for _, w in world.sections])[0]
    rule = random_audience(world)
    kind = rng.choice(KINDS)
    first = now - timedelta(seconds=rng.uniform(0, 730 * 86400))
    last = first + (now - first) * rng.random() ** 3
    title = f"{kind.replace('_', ' ').title()} {n:05d}"
    page = MODEL_BY_CONTENT_KIND[kind](
        title=title,
        draft_title=title,
        slug=f"item-{n:05d}",
        locale_id=world.library.locale_id,
        summary=f"Summary of item {n} for the listing.",
        body=f"<p>Body of item {n}.</p>",
        product=rng.choice(world.products) if rng.random() < 0.8 else None,
        live=True,
        has_unpublished_changes=False,
        first_published_at=first,
        last_published_at=last,
        audience_public=rule["public"],
        audience_min_tier=rule["min_tier"],
    )
    page.audience_regions = rule["regions"]
    page.audience_partner_types = rule["types"]
    perms = []
    partner_group = world.partner_org.group_id
    restricted = rule["min_tier"] or rule["regions"] or rule["types"]
    if restricted and rng.random() < 0.05:
        perms.append((partner_group, GRANT_CODENAME))
    if rng.random() < 0.01:
        perms.append((partner_group, EXCEPTION_CODENAME))
    if rng.random() < 0.03:
        perms.append((rng.choice(world.other_orgs).group_id, GRANT_CODENAME))
    if rng.random() < 0.01:
        perms.append((rng.choice(world.other_orgs).group_id, EXCEPTION_CODENAME))
    return Planned(parent, page, rule, perms)


def insert_treebeard(world: World, batch: list[Planned]) -> None:
    """One ``parent.add_child`` per item: Wagtail's save, AudienceMixin.save → audience_compile."""
    from wagtail.models import Page

    for planned in batch:
        Page.objects.get(path=planned.parent.path).add_child(instance=planned.page)


def insert_bulk(world: World, batch: list[Planned]) -> None:
    """Bulk-insert the pages of ``batch`` with the paths treebeard would give them.

    Writes the page rows (wagtailcore_page, kb_portalitempage, the kind's table), the audience
    M2M rows, the parents' numchild and each item's *own* PageAudience columns; the effective
    columns are derived afterwards by permissions.services.audience_recompute_all().
    """
    from django.db import connection
    from django.db.models import F
    from wagtail.models import Page

    from kb.models import PortalItemPage
    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME, PageAudience
    from permissions.policies.rule import tokens

    added: Counter = Counter()
    for planned in batch:
        parent, page = planned.parent, planned.page
        if parent.path not in world.last_child:
            last = (
                Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            world.last_child[parent.path] = Page._str2int(last[-Page.steplen :]) if last else 0
        world.last_child[parent.path] += 1
        added[parent.path] += 1
        page.depth = parent.depth + 1
        page.path = Page._get_path(parent.path, page.depth, world.last_child[parent.path])
        page.url_path = f"{parent.url_path}{page.slug}/"

    page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
    rows = [Page(**{f.attname: getattr(p.page, f.attname) for f in page_fields}) for p in batch]
    Page.objects.bulk_create(rows)
    for planned, row in zip(batch, rows, strict=True):
        page = planned.page
        page.id = row.id
        for model in [type(page), *type(page)._meta.get_parent_list()]:
            for link in model._meta.parents.values():
                setattr(page, link.attname, row.id)
        page._state.adding = False
    pages = [p.page for p in batch]
    # Multi-table inheritance has no bulk_create: insert each table's own columns, as
    # Model.save_base does one row at a time.
    PortalItemPage._base_manager._insert(
        pages, fields=PortalItemPage._meta.local_concrete_fields, using=connection.alias
    )
    for model in {type(p) for p in pages}:
        model._base_manager._insert(
            [p for p in pages if type(p) is model],
            fields=model._meta.local_concrete_fields,
            using=connection.alias,
        )
    regions = PortalItemPage.audience_regions.through
    types = PortalItemPage.audience_partner_types.through
    regions.objects.bulk_create(
        regions(portalitempage_id=p.page.id, region_id=r.pk)
        for p in batch
        for r in p.rule["regions"]
    )
    types.objects.bulk_create(
        types(portalitempage_id=p.page.id, partnertype_id=t.pk)
        for p in batch
        for t in p.rule["types"]
    )
    for path, count in added.items():
        Page.objects.filter(path=path).update(numchild=F("numchild") + count)
    # Where PageAudience mirrors the guardian rows (own_grants / own_exceptions), write the
    # mirror too: audience_set_organizations would, and audience_recompute_all derives from it.
    mirrored = {f.name for f in PageAudience._meta.get_fields()} >= {"own_grants", "own_exceptions"}

    def own_organizations(planned: Planned) -> dict:
        if not mirrored:
            return {}
        return {
            f"own_{kind}s": tokens({g for g, code in planned.perms if code == codename})
            for kind, codename in (("grant", GRANT_CODENAME), ("exception", EXCEPTION_CODENAME))
        }

    PageAudience.objects.bulk_create(
        PageAudience(
            page_id=p.page.id,
            own_public=p.rule["public"],
            own_min_tier=p.rule["min_tier"],
            own_regions=tokens(r.pk for r in p.rule["regions"]) if p.rule["regions"] else None,
            own_types=tokens(t.pk for t in p.rule["types"]) if p.rule["types"] else None,
            **own_organizations(p),
        )
        for p in batch
    )


def seed_to(world: World, size: int, progress, mode: str) -> float:
    """Add items until there are ``size``; returns the seconds it took.

    Items are live, published pages without revisions, search or reference indexing (none of
    which the listing reads). Grants and exceptions are bulk-inserted guardian rows, the same rows
    ``audience_set_grants`` writes.
    """
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import override_settings
    from wagtail.signal_handlers import disable_reference_index_auto_update

    from permissions.models import PageGroupObjectPermission
    from permissions.services import audience_recompute_all

    todo = size - world.created
    if todo <= 0:
        return 0.0
    now = datetime.now(tz=UTC)
    backends = {
        name: {**conf, "AUTO_UPDATE": False}
        for name, conf in settings.WAGTAILSEARCH_BACKENDS.items()
    }
    insert = insert_bulk if mode == "bulk" else insert_treebeard
    task = progress.add_task(f"seeding to {size:,} ({mode})", total=todo)
    started = time.perf_counter()
    with override_settings(WAGTAILSEARCH_BACKENDS=backends), disable_reference_index_auto_update():
        while world.created < size:
            count = min(BATCH, size - world.created)
            batch = [plan_item(world, world.created + i + 1, now) for i in range(count)]
            with transaction.atomic():
                insert(world, batch)
                PageGroupObjectPermission.objects.bulk_create(
                    [
                        PageGroupObjectPermission(
                            group_id=group_id,
                            permission=world.permissions[codename],
                            content_object_id=p.page.pk,
                        )
                        for p in batch
                        for group_id, codename in p.perms
                    ],
                    ignore_conflicts=True,
                )
                if mode == "treebeard":
                    refresh_mirrors([p.page for p in batch if p.perms])
            world.created += count
            world.parents.extend(
                Node(p.page.path, p.page.depth, p.page.url_path) for p in batch if p.page.depth <= 5
            )
            progress.advance(task, count)
        if mode == "bulk":
            audience_recompute_all()
            forget_cached_tree_facts()
    if connection.vendor == "postgresql":
        # Autovacuum analyses a production database; a freshly bulk-loaded one has no statistics
        # and PostgreSQL would plan nested loops for "1 row".
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    progress.remove_task(task)
    check_seed(world)
    return elapsed


def refresh_mirrors(pages: list) -> None:
    """After raw guardian inserts, let permissions mirror them if it keeps a mirror."""
    from permissions import services

    refresh = getattr(services, "audience_refresh_organizations", None)
    if refresh is not None:
        for page in pages:
            refresh(page=page)


def forget_cached_tree_facts() -> None:
    """Bulk inserts send no post_save, so do what the page-save signal handlers would.

    permissions caches facts about the tree (e.g. the deepest page's depth, which bounds the grant
    branch's ancestor probe) until a page is saved. The dev cache is process-local (LocMemCache),
    so clearing it touches nothing outside this run; any other backend only loses that one key.
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    import permissions.policies as policies

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()
    elif hasattr(policies, "MAX_DEPTH_CACHE_KEY"):
        cache.delete(policies.MAX_DEPTH_CACHE_KEY)


def check_seed(world: World, sample: int = 40) -> None:
    """Every item has its compiled audience row, and the rows are what the service compiles.

    The sample is re-compiled with permissions.services.audience_compile (from the page's own
    fields and M2M rows) and must come out unchanged.
    """
    from kb.models import PortalItemPage
    from permissions.models import PageAudience
    from permissions.services import audience_compile

    items = PortalItemPage.objects.count()
    compiled = PageAudience.objects.filter(page__in=PortalItemPage.objects.all()).count()
    if items != world.created or compiled != items:
        raise SystemExit(f"seed check failed: {items} items, {compiled} PageAudience rows")
    columns = [
        f.attname
        for f in PageAudience._meta.concrete_fields
        if f.name not in ("page", "updated_at")
    ]
    ids = list(PortalItemPage.objects.values_list("pk", flat=True))
    for pk in random.Random(items).sample(ids, min(sample, len(ids))):
        before = PageAudience.objects.filter(page_id=pk).values_list(*columns).get()
        audience_compile(page=PortalItemPage.objects.get(pk=pk).specific)
        after = PageAudience.objects.filter(page_id=pk).values_list(*columns).get()
        if before != after:
            raise SystemExit(f"seed check failed: page {pk} compiled {after}, seeded {before}")


# --- prototypes (bench only) -----------------------------------------------------------------
#
# Neither class is the project's policy: they exist to show, with numbers, what a change to
# permissions/ would buy. measure() checks that each selects exactly the same items as
# permissions.policies.page_policy for several organisations before its time is reported.


@functools.cache
def overrides_model():
    """PROTOTYPE side table: per page, the organisations' groups holding a grant anywhere on the
    chain (``chain_grants``) and an exception anywhere on the chain (``eff_exceptions``), as
    ``|id|`` tokens like PageAudience.eff_regions. In the project these would be two columns of
    PageAudience compiled by audience_compile / _recompute_rows; a separate table (one more join)
    makes the prototype's figures pessimistic, not optimistic.
    """
    from django.db import models

    class BenchChainOverrides(models.Model):
        page = models.OneToOneField(
            "wagtailcore.Page",
            on_delete=models.DO_NOTHING,
            primary_key=True,
            related_name="bench_overrides",
            db_constraint=False,
        )
        chain_grants = models.TextField(null=True)
        eff_exceptions = models.TextField(null=True)

        class Meta:
            app_label = "permissions"
            managed = False
            db_table = "bench_chain_overrides"

        def __str__(self) -> str:
            return f"bench overrides of page {self.page_id}"

    class BenchGrantAudience(models.Model):
        """Per (page, organisation holding a grant on the page's chain): the effective rule of
        the chain for that organisation, a granted node counting as unrestricted."""

        page = models.ForeignKey(
            "wagtailcore.Page",
            on_delete=models.DO_NOTHING,
            related_name="bench_grant_audiences",
            db_constraint=False,
        )
        group_id = models.IntegerField()
        eff_min_rank = models.PositiveIntegerField(null=True)
        eff_regions = models.TextField(null=True)
        eff_types = models.TextField(null=True)

        class Meta:
            app_label = "permissions"
            managed = False
            db_table = "bench_grant_audience"
            constraints = [
                models.UniqueConstraint(fields=["page", "group_id"], name="bench_grant_uniq")
            ]

        def __str__(self) -> str:
            return f"bench grant audience of page {self.page_id} for group {self.group_id}"

    from django.db import connection

    with connection.schema_editor() as editor:
        editor.create_model(BenchChainOverrides)
        editor.create_model(BenchGrantAudience)
    return BenchChainOverrides, BenchGrantAudience


def compile_overrides() -> None:
    """Fill the PROTOTYPE side tables top-down, as audience_compile / _recompute_rows would.

    Reuses permissions.services.combine (the project's own rule for "a node's rule AND its
    parent's") so the grant-adjusted rules cannot drift from the compiled effective ones.
    """
    from collections import defaultdict

    from django.db import connection, transaction

    from permissions.models import GRANT_CODENAME, PageAudience, PageGroupObjectPermission
    from permissions.policies.principal import region_ancestry
    from permissions.policies.rule import STEPLEN, parse_tokens, tokens
    from permissions.services import UNRESTRICTED, Effective, combine

    overrides, grant_audience = overrides_model()
    parents = region_ancestry()
    own: dict = defaultdict(lambda: (set(), set()))
    for page_id, group_id, codename in PageGroupObjectPermission.objects.values_list(
        "content_object_id", "group_id", "permission__codename"
    ):
        own[page_id][0 if codename == GRANT_CODENAME else 1].add(group_id)
    # path -> (groups with a grant on the chain, groups with an exception on the chain,
    #          normal effective rule, {group: grant-adjusted effective rule})
    by_path: dict[str, tuple] = {}
    override_rows, grant_rows = [], []
    for row in PageAudience.objects.select_related("page").order_by("page__path"):
        path = row.page.path
        inherited = (frozenset(), frozenset(), UNRESTRICTED, {})
        for depth in range(len(path) // STEPLEN - 1, 0, -1):
            if path[: STEPLEN * depth] in by_path:
                inherited = by_path[path[: STEPLEN * depth]]
                break
        granted_here, excepted_here = own[row.page_id]
        grants = inherited[0] | granted_here
        exceptions = inherited[1] | excepted_here
        normal = Effective(
            row.eff_public,
            row.eff_min_rank,
            parse_tokens(row.eff_regions),
            parse_tokens(row.eff_types),
        )
        adjusted = {}
        for group_id in grants:
            parent_eff = inherited[3].get(group_id, inherited[2])
            eff = combine(
                parent_eff,
                public=row.own_public or group_id in granted_here,
                min_rank=row.own_min_rank,
                regions=parse_tokens(row.own_regions),
                types=parse_tokens(row.own_types),
                parents=parents,
            )
            adjusted[group_id] = eff
            grant_rows.append(
                grant_audience(
                    page_id=row.page_id,
                    group_id=group_id,
                    eff_min_rank=eff.min_rank,
                    eff_regions=None if eff.regions is None else tokens(eff.regions),
                    eff_types=None if eff.types is None else tokens(eff.types),
                )
            )
        by_path[path] = (grants, exceptions, normal, adjusted)
        override_rows.append(
            overrides(
                page_id=row.page_id,
                chain_grants=tokens(grants) if grants else None,
                eff_exceptions=tokens(exceptions) if exceptions else None,
            )
        )
    with transaction.atomic():
        overrides.objects.all().delete()
        grant_audience.objects.all().delete()
        overrides.objects.bulk_create(override_rows, batch_size=1000)
        grant_audience.objects.bulk_create(grant_rows, batch_size=1000)
    if connection.vendor == "postgresql":  # as seed_to does for the project's tables
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {overrides._meta.db_table}, {grant_audience._meta.db_table}")


@functools.cache
def prototype_policies() -> dict:
    """PROTOTYPES, bench only: three shapes of PagePolicy.visible_q with the same rules.

    ``indexed`` (no schema change): the project's ``_perm_on_chain`` compares every grant or
    exception row of the organisation with a prefix of the outer page's path
    (``U3.path = SUBSTR(outer.path, 1, LENGTH(U3.path))``); no index applies, so every listed row
    scans all of the organisation's rows: O(items × grants). Here the subquery starts from the
    outer page's chain instead (its ancestors' paths ``SUBSTR(outer.path, 1, 4·d)`` through the
    unique path index) and probes the guardian row through its (group, permission, object) unique
    index: O(items × depth). Permission ids are resolved once (no join to auth_permission), and
    max depth is read once per filter.

    ``exc-tokens`` (two new compiled columns): exceptions are inherited down the chain like the
    other effective columns, so they compile to ``eff_exceptions`` tokens and the exception test
    becomes one LIKE per row. ``chain_grants`` ("this organisation holds a grant somewhere on the
    chain") is a cheap LIKE guard in front of the indexed blocking-node subquery, which then runs
    only below a grant.

    ``compiled`` (exception tokens + a grant-adjusted audience table): for each page and each
    organisation holding a grant on its chain, the chain's effective rule with that
    organisation's granted nodes counted as unrestricted (the same ``combine`` as the effective
    columns). "Visible through grants" is then that rule matching the organisation: one probe of a
    (page, group) unique index, and only for rows the normal rule rejects. No per-row subquery
    depends on the number of grants or on the depth.
    """
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Exists, Max, OuterRef, Q
    from django.db.models.functions import Substr
    from wagtail.models import Page

    from permissions.models import (
        EXCEPTION_CODENAME,
        GRANT_CODENAME,
        PageAudience,
        PageGroupObjectPermission,
    )
    from permissions.policies.pages import PagePolicy
    from permissions.policies.principal import Principal
    from permissions.policies.rule import STEPLEN

    page_ct = ContentType.objects.get_for_model(Page)
    permission_ids = dict(
        Permission.objects.filter(
            codename__in=(GRANT_CODENAME, EXCEPTION_CODENAME), content_type=page_ct
        ).values_list("codename", "id")
    )

    def chain(field_name: str, max_depth: int) -> Q:
        """``field_name`` is the outer page's path or one of its ancestors' (index lookups)."""
        q = Q()
        for depth in range(1, max_depth + 1):
            q |= Q(**{field_name: Substr(OuterRef("path"), 1, STEPLEN * depth)})
        return q

    def max_depth() -> int:
        return Page.objects.aggregate(depth=Max("depth"))["depth"] or 1

    class IndexedChainPolicy(PagePolicy):
        def visible_q(self, principal: Principal) -> Q:
            if principal.kind != "partner" or not (
                principal.has_grants or principal.has_exceptions
            ):
                return super().visible_q(principal)
            depth = max_depth()
            rule = self._effective_rule_q(principal)
            if principal.has_grants:
                rule |= Exists(self._chain_perm(principal, GRANT_CODENAME, depth)) & ~Exists(
                    self._blocking(principal, depth)
                )
            q = Q(live=True, audience__isnull=False) & rule
            if principal.has_exceptions:
                q &= ~Exists(self._chain_perm(principal, EXCEPTION_CODENAME, depth))
            return q

        def _chain_perm(self, principal: Principal, codename: str, depth: int):
            # Start from the chain (path index), then the guardian row (unique index).
            held = PageGroupObjectPermission.objects.filter(
                group_id=principal.group_id,
                permission_id=permission_ids[codename],
                content_object_id=OuterRef("pk"),
            )
            return Page.objects.filter(chain("path", depth)).filter(Exists(held))

        def _blocking(self, principal: Principal, depth: int):
            own_region = Q(own_regions__isnull=True)
            for region_id in sorted(principal.region_ids):
                own_region |= Q(own_regions__contains=f"|{region_id}|")
            fails = Q(own_public=False) & (
                Q(own_min_rank__gt=principal.tier_rank)
                | ~own_region
                | ~(Q(own_types__isnull=True) | Q(own_types__contains=f"|{principal.type_id}|"))
            )
            granted = PageGroupObjectPermission.objects.filter(
                group_id=principal.group_id,
                permission_id=permission_ids[GRANT_CODENAME],
                content_object_id=OuterRef("page_id"),
            )
            return PageAudience.objects.filter(chain("page__path", depth), fails).filter(
                ~Exists(granted)
            )

    class CompiledOverridesPolicy(IndexedChainPolicy):
        def visible_q(self, principal: Principal) -> Q:
            if principal.kind != "partner" or not (
                principal.has_grants or principal.has_exceptions
            ):
                return super().visible_q(principal)
            token = f"|{principal.group_id}|"
            rule = self._effective_rule_q(principal)
            if principal.has_grants:
                rule |= Q(bench_overrides__chain_grants__contains=token) & ~Exists(
                    self._blocking(principal, max_depth())
                )
            q = Q(live=True, audience__isnull=False) & rule
            if principal.has_exceptions:
                q &= ~Q(bench_overrides__eff_exceptions__contains=token)
            return q

    class CompiledGrantsPolicy(PagePolicy):
        def visible_q(self, principal: Principal) -> Q:
            if principal.kind != "partner" or not (
                principal.has_grants or principal.has_exceptions
            ):
                return super().visible_q(principal)
            rule = self._effective_rule_q(principal)
            if principal.has_grants:
                # One probe of the (page, group) unique index, only for rows the rule rejects.
                rule |= Exists(
                    grant_audience.objects.filter(
                        page_id=OuterRef("pk"), group_id=principal.group_id
                    ).filter(self._effective_rule_q(principal, prefix="eff_"))
                )
            q = Q(live=True, audience__isnull=False) & rule
            if principal.has_exceptions:
                q &= ~Q(bench_overrides__eff_exceptions__contains=f"|{principal.group_id}|")
            return q

    _, grant_audience = overrides_model()
    return {
        "indexed": IndexedChainPolicy(),
        "exc-tokens": CompiledOverridesPolicy(),
        "compiled": CompiledGrantsPolicy(),
    }


def with_policy(policy, fn: Callable[[], object]) -> Callable[[], object]:
    def run():
        with use_policy(policy):
            return fn()

    return run


class use_policy:
    """Swap permissions.policies.page_policy (read by PortalPageQuerySet.visible_to) for a while."""

    def __init__(self, policy):
        self.policy = policy

    def __enter__(self):
        import permissions.policies as policies

        self.saved, policies.page_policy = policies.page_policy, self.policy

    def __exit__(self, *exc):
        import permissions.policies as policies

        policies.page_policy = self.saved


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Row:
    size: int
    seed_s: float
    total: int
    visible: int
    queries: dict[str, int]
    last_page: int
    filtered_ms: dict[str, float]
    plain_ms: dict[str, float]
    ratio: dict[str, float]
    http_ms: float
    grants: int
    exceptions: int
    sql_ms: dict[str, float]  # page 1: the count + rows SQL alone
    sql_ratio: float
    # name -> {"ms": {p1, last}, "ratio": {p1, last}, "same": bool, "http_ms": float}
    prototypes: dict[str, dict] = field(default_factory=dict)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Time ``fns`` in turn (order rotated and reversed each round) after one warm-up each.

    Returns each one's median in ms; on a noisy machine the rotation spreads any slow spell over
    all of them.
    """
    for fn in fns:
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    for r in range(repeat):
        turn = order[r % len(order) :] + order[: r % len(order)]
        if r % 2:
            turn.reverse()
        for i in turn:
            started = time.perf_counter()
            fns[i]()
            samples[i].append(time.perf_counter() - started)
    return [median_ms(s) for s in samples]


def section_scope(section):
    """The selector's scope: items below the section and its translations (language=all)."""
    from django.db.models import Q

    scope = Q()
    for s in section.get_translations(inclusive=True).only("path", "depth"):
        scope |= Q(path__startswith=s.path, depth__gt=s.depth)
    return scope


def listing_callables(world: World, page_number: int, policy=None):
    """(filtered, plain) callables for one page number, each doing what one request does."""
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.http import QueryDict

    from kb.models import LibraryIndexPage, PortalItemPage
    from kb.selectors import library_listing

    section = LibraryIndexPage.objects.get(pk=world.library.pk)
    params = QueryDict(f"language=all&page={page_number}")
    plain_qs = (
        PortalItemPage.objects.live()
        .filter(section_scope(section))
        .order_by("-last_published_at", "-pk")
    )

    def filtered(user=None):
        # A fresh user object per call, as per request: the principal (membership, grants,
        # regions) is resolved inside the measured time, like in a real request.
        user = copy.copy(user or world.partner)
        user.__dict__.pop("_portal_principal", None)
        if policy is None:
            listing = library_listing(user=user, section=section, params=params)
        else:
            with use_policy(policy):
                listing = library_listing(user=user, section=section, params=params)
        rows = list(listing.page.object_list)
        return listing.page.paginator.count, rows

    def plain():
        paginator = Paginator(plain_qs, settings.PORTAL_PAGE_SIZE)
        page = paginator.get_page(page_number)
        rows = list(page.object_list)
        return paginator.count, rows

    return filtered, plain


def visible_ids(user, policy=None) -> set[int]:
    from kb.models import PortalItemPage

    user = copy.copy(user)
    user.__dict__.pop("_portal_principal", None)
    with use_policy(policy) if policy else contextlib.nullcontext():
        return set(PortalItemPage.objects.live().visible_to(user).values_list("pk", flat=True))


def render_queries(world: World, page_number: int) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(world.partner)
    client.get(world.library.url, {"language": "all", "page": page_number})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(world.library.url, {"language": "all", "page": page_number})
    if response.status_code != 200:
        raise SystemExit(f"GET {world.library.url}: HTTP {response.status_code}")
    return [q["sql"] for q in ctx.captured_queries]


def http_median(world: World, repeat: int, policy=None) -> float:
    from django.test import Client

    client = Client()
    client.force_login(world.partner)
    url = world.library.url
    client.get(url, {"language": "all", "page": 1})
    samples = []
    with use_policy(policy) if policy else contextlib.nullcontext():
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url, {"language": "all", "page": 1})
            samples.append(time.perf_counter() - started)
    return median_ms(samples)


def listing_sql(fn: Callable[[], object]) -> list[str]:
    """The SQL of the listing's own queries (count and rows) that ``fn`` sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries if "kb_portalitempage" in q["sql"]]


def run_sql(statements: list[str]) -> Callable[[], None]:
    """Run captured SQL as is: the database's share of a call, without Python or the ORM."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return run


def measure(world: World, size: int, seed_s: float, args) -> Row:
    from django.conf import settings

    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME, PageGroupObjectPermission

    filtered1, plain1 = listing_callables(world, 1)
    visible, filtered_rows = filtered1()
    total, _ = plain1()
    last_page = max(1, math.ceil(visible / settings.PORTAL_PAGE_SIZE))
    if not 0 < visible < total:
        raise SystemExit(f"the partner must see some but not all items ({visible}/{total})")
    if len(filtered_rows) != min(settings.PORTAL_PAGE_SIZE, visible):
        raise SystemExit("the filtered page is not full")

    pages = {"p1": 1, "p2": 2, "last": last_page}
    queries = {label: len(render_queries(world, number)) for label, number in pages.items()}

    protos = prototype_policies() if args.prototype else {}
    if protos:
        compile_overrides()
    filtered_ms, plain_ms, ratio = {}, {}, {}
    proto_ms: dict = {name: {} for name in protos}
    for label in ("p1", "last"):
        filtered, plain = listing_callables(world, pages[label])
        fns = [filtered, plain]
        fns += [listing_callables(world, pages[label], policy=p)[0] for p in protos.values()]
        medians = interleaved(fns, args.repeat)
        filtered_ms[label], plain_ms[label] = medians[0], medians[1]
        ratio[label] = medians[0] / medians[1]
        for name, value in zip(protos, medians[2:], strict=True):
            proto_ms[name][label] = value
        if label == "p1":
            # The same calls' count + rows SQL alone: what the database spends on the predicate.
            sql_ms = interleaved([run_sql(listing_sql(fn)) for fn in fns], args.repeat)

    row = Row(
        size=size,
        seed_s=seed_s,
        total=total,
        visible=visible,
        queries=queries,
        last_page=last_page,
        filtered_ms=filtered_ms,
        plain_ms=plain_ms,
        ratio=ratio,
        http_ms=http_median(world, args.repeat),
        grants=0,
        exceptions=0,
        sql_ms={"filtered": sql_ms[0], "plain": sql_ms[1]},
        sql_ratio=sql_ms[0] / sql_ms[1],
    )
    perms = PageGroupObjectPermission.objects.filter(group_id=world.partner_org.group_id)
    row.grants = perms.filter(permission__codename=GRANT_CODENAME).count()
    row.exceptions = perms.filter(permission__codename=EXCEPTION_CODENAME).count()
    for name, policy in protos.items():
        row.prototypes[name] = {
            "ms": proto_ms[name],
            "ratio": {k: v / plain_ms[k] for k, v in proto_ms[name].items()},
            "sql_ms": sql_ms[2 + list(protos).index(name)],
            "sql_ratio": sql_ms[2 + list(protos).index(name)] / sql_ms[1],
            "same": all(
                visible_ids(user) == visible_ids(user, policy)
                for user in [world.partner, *world.others]
            ),
            "http_ms": http_median(world, args.repeat, policy),
        }
    return row


# --- diagnostics (--breakdown, --explain) ----------------------------------------------------


def breakdown(world: World, repeat: int, prototypes: dict | None = None) -> dict:
    """Where the filtered page's time goes, at the current size.

    ``predicate``: the page (count + rows) with the predicate built up part by part, each against
    the plain page in the same interleaved run. ``fixed``: the per-request work of the selector
    that does not depend on the catalogue size. Reads PagePolicy's internal builders on purpose:
    this is a diagnosis, not a second implementation of the rules.
    """
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.db import connection
    from django.db.models import Exists, Q
    from django.test.utils import CaptureQueriesContext

    from kb.models import LibraryIndexPage, PortalItemPage, Product
    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME
    from permissions.policies.pages import page_policy
    from permissions.policies.principal import principal_for

    section = LibraryIndexPage.objects.get(pk=world.library.pk)
    principal = principal_for(copy.copy(world.partner))
    policy = page_policy
    base = Q(live=True, audience__isnull=False)
    rule = policy._effective_rule_q(principal)
    variants = [
        ("join PageAudience only", base),
        ("+ effective tier/region/type rule", base & rule),
    ]
    if hasattr(policy, "_perm_on_chain"):  # the subquery shape of b6a3a97 and before
        grant_branch = Exists(policy._perm_on_chain(principal, GRANT_CODENAME)) & ~Exists(
            policy._blocking_nodes(principal)
        )
        no_exception = ~Exists(policy._perm_on_chain(principal, EXCEPTION_CODENAME))
        variants += [
            ("+ grant branch (OR)", base & (rule | grant_branch)),
            ("rule & no exception (no grant branch)", base & rule & no_exception),
        ]
    variants.append(("= visible_q (rule, grants, exceptions)", policy.visible_q(principal)))
    scope = section_scope(section)

    def page_of(q):
        def run():
            qs = (
                PortalItemPage.objects.live()
                .filter(scope)
                .filter(q)
                .select_related("product", "locale")
                .order_by("-last_published_at", "-pk")
            )
            paginator = Paginator(qs, settings.PORTAL_PAGE_SIZE)
            page = paginator.get_page(1)
            return paginator.count, list(page.object_list)

        return run

    predicate = []
    for label, q in variants:
        a, b = interleaved([page_of(q), page_of(Q())], repeat)
        predicate.append({"part": label, "filtered_ms": a, "plain_ms": b, "ratio": a / b})

    filtered, plain = listing_callables(world, 1)

    def fresh_principal():
        user = copy.copy(world.partner)
        user.__dict__.pop("_portal_principal", None)
        return principal_for(user)

    cached_user = copy.copy(world.partner)
    principal_for(cached_user)

    def compile_only():
        """Build the listing queryset and compile its count and page SQL, executing neither
        (visible_q's own lookups, e.g. an uncached max depth, still run)."""
        qs = (
            PortalItemPage.objects.live()
            .visible_to(cached_user)
            .filter(scope)
            .select_related("product", "locale")
            .order_by("-last_published_at", "-pk")
        )
        count = qs.query.chain()
        count.clear_ordering(force=True)
        count.get_compiler(connection.alias).as_sql()
        qs[: settings.PORTAL_PAGE_SIZE].query.get_compiler(connection.alias).as_sql()

    parts = {
        "whole selector call (count + rows)": filtered,
        "  its two listing queries, SQL only": run_sql(listing_sql(filtered)),
        "  ORM: build visible_q + compile count & page SQL": compile_only,
        **{
            f"  same ORM work, {name} PROTOTYPE policy": with_policy(policy, compile_only)
            for name, policy in (prototypes or {}).items()
        },
        "  child sections (LibraryIndexPage …visible_to)": lambda: list(
            LibraryIndexPage.objects.child_of(section)
            .live()
            .visible_to(cached_user)
            .order_by("path")
        ),
        "  principal_for (fresh user)": fresh_principal,
        "  products for the filter": lambda: list(Product.objects.order_by("name")),
        "plain page (count + rows)": plain,
        "  its two queries, SQL only": run_sql(listing_sql(plain)),
    }
    labelled = {}
    for label, fn in parts.items():
        with CaptureQueriesContext(connection) as ctx:
            fn()
        labelled[f"{label} [{len(ctx.captured_queries)} q]"] = fn
    parts = labelled
    medians = interleaved(list(parts.values()), repeat)
    fixed = [{"part": k, "ms": v} for k, v in zip(parts, medians, strict=True)]
    return {"predicate": predicate, "fixed": fixed}


def explain(world: World, policy=None) -> list[tuple[str, str]]:
    """The plan of the filtered count and page-1 queries, as the selector sends them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    filtered, _ = listing_callables(world, 1, policy=policy)
    with CaptureQueriesContext(connection) as ctx:
        filtered()
    wanted = [q["sql"] for q in ctx.captured_queries if "kb_portalitempage" in q["sql"]]
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    plans = []
    with connection.cursor() as cursor:
        for sql in wanted:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
            text = "\n".join(" | ".join(str(c) for c in row) for row in rows)
            plans.append((sql, text))
    return plans


# --- output ----------------------------------------------------------------------------------


def machine() -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            db = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("show server_version")
            db = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Django {django.get_version()}, {db}, "
        f"code {revision()}"
    )


def revision() -> str:
    """The commit measured, and whether kb/ or permissions/ had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "kb", "permissions")
    return f"{head}{' + uncommitted kb/permissions changes' if dirty else ''}"


def verdicts(rows: list[Row]) -> dict[str, bool]:
    counts = [tuple(r.queries.values()) for r in rows]
    return {
        f"queries per render ≤ {GOAL_MAX_QUERIES}": all(
            max(r.queries.values()) <= GOAL_MAX_QUERIES for r in rows
        ),
        "queries constant in N": len(set(counts)) == 1,
        f"filtered / plain ≤ {GOAL_MAX_RATIO}": all(
            max(r.ratio.values()) <= GOAL_MAX_RATIO for r in rows
        ),
    }


def report(console, rows: list[Row], description: str) -> None:
    from rich.table import Table

    table = Table(title=f"Library listing for one partner — {description}")
    for name in (
        "N",
        "visible / total",
        "queries p1/p2/last",
        "filtered ms p1",
        "plain ms p1",
        "ratio p1",
        "filtered ms last",
        "plain ms last",
        "ratio last",
        "SQL-only ratio p1",
        "HTTP ms p1",
        "seed s",
    ):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            f"{r.size:,}",
            f"{r.visible:,} / {r.total:,}",
            "/".join(str(v) for v in r.queries.values()),
            f"{r.filtered_ms['p1']:.1f}",
            f"{r.plain_ms['p1']:.1f}",
            f"{r.ratio['p1']:.2f}",
            f"{r.filtered_ms['last']:.1f}",
            f"{r.plain_ms['last']:.1f}",
            f"{r.ratio['last']:.2f}",
            f"{r.sql_ratio:.2f}",
            f"{r.http_ms:.1f}",
            f"{r.seed_s:.1f}",
        )
    console.print(table)
    for goal, ok in verdicts(rows).items():
        console.print(f"{goal}: " + ("[green]PASS[/green]" if ok else "[red]FAIL[/red]"))
    if rows[0].prototypes:
        table = Table(
            title="PROTOTYPES (bench only, not the project's policy): same rules, other SQL"
        )
        for name in (
            "N",
            "prototype",
            "ms p1",
            "ratio p1",
            "ms last",
            "ratio last",
            "SQL-only ratio p1",
            "HTTP ms p1",
            "same items",
        ):
            table.add_column(name, justify="right")
        for r in rows:
            for name, p in r.prototypes.items():
                table.add_row(
                    f"{r.size:,}",
                    name,
                    f"{p['ms']['p1']:.1f}",
                    f"{p['ratio']['p1']:.2f}",
                    f"{p['ms']['last']:.1f}",
                    f"{p['ratio']['last']:.2f}",
                    f"{p['sql_ratio']:.2f}",
                    f"{p['http_ms']:.1f}",
                    "yes" if p["same"] else "[red]NO[/red]",
                )
        console.print(table)


def report_breakdown(console, size: int, parts: dict) -> None:
    from rich.table import Table

    table = Table(title=f"Predicate, part by part, at N={size:,} (page 1, with select_related)")
    for name in ("predicate", "filtered ms", "plain ms", "ratio"):
        table.add_column(name, justify="right")
    for p in parts["predicate"]:
        table.add_row(
            p["part"], f"{p['filtered_ms']:.1f}", f"{p['plain_ms']:.1f}", f"{p['ratio']:.2f}"
        )
    console.print(table)
    table = Table(title=f"Per-request costs at N={size:,} (medians)")
    table.add_column("part", justify="left")
    table.add_column("ms", justify="right")
    for p in parts["fixed"]:
        table.add_row(p["part"], f"{p['ms']:.2f}")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    args = parse_args(argv)
    console = Console()
    if console.width < 140:  # piped into a file or a narrow terminal: keep the table readable
        console = Console(width=140)
    started = time.perf_counter()
    tmp = configure(args)
    try:
        world = build_world()
        description = machine()
        console.print(f"[bold]{description}[/bold]; repeat={args.repeat}; seed={args.seed}")
        rows: list[Row] = []
        columns = (
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        for size in args.sizes:
            with Progress(*columns, console=console, transient=True) as progress:
                seed_s = seed_to(world, size, progress, args.seed)
            console.print(f"seeded {size:,} items in {seed_s:.1f} s; measuring…")
            rows.append(measure(world, size, seed_s, args))
            r = rows[-1]
            console.print(
                f"  N={size:,}: queries {r.queries}, filtered/plain p1 {r.ratio['p1']:.2f}, "
                f"last {r.ratio['last']:.2f}"
            )
        report(console, rows, description)
        extra: dict = {}
        if args.show_queries:
            console.rule(f"queries of one render (page 1, N={rows[-1].size:,})")
            for n, sql in enumerate(render_queries(world, 1), start=1):
                console.print(f"{n:2d}. {sql[:160]}", markup=False, highlight=False)
        if args.breakdown:
            parts = breakdown(
                world, min(args.repeat, 7), prototype_policies() if args.prototype else None
            )
            report_breakdown(console, rows[-1].size, parts)
            extra["breakdown"] = parts
        if args.explain:
            plans = {"current": explain(world)}
            if args.prototype:
                for name, policy in prototype_policies().items():
                    plans[name] = explain(world, policy)
            for name, pairs in plans.items():
                for sql, plan in pairs:
                    console.rule(f"{name}: query")
                    console.print(sql, markup=False, highlight=False)
                    console.rule(f"{name}: plan")
                    console.print(plan, markup=False, highlight=False)
            extra["explain"] = plans
        total_s = time.perf_counter() - started
        console.print(f"total time {total_s:.0f} s")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "machine": description,
                        "repeat": args.repeat,
                        "seed": args.seed,
                        "total_s": total_s,
                        "rows": [asdict(r) for r in rows],
                        "verdicts": verdicts(rows),
                        **extra,
                    },
                    indent=2,
                )
            )
        return 0 if all(verdicts(rows).values()) else 1
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            console.print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
