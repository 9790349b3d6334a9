"""Benchmark the partner library page against a plain Wagtail listing of the same section.

Usage (from the project root)::

    .venv/bin/python bench/listing.py [--sizes 100,1000,10000] [--repeat 15] [--section products]
    .venv/bin/python bench/listing.py --database-url postgresql://postgres@127.0.0.1:5432/bench_listing

It builds its own throwaway database (SQLite in a temporary folder unless ``--database-url`` names a
PostgreSQL database, which is created when missing) and its own MEDIA_ROOT, seeds a partner world
(tiers, regions, types, ~20 organisations; the measured partner's organisation holds grants and
exceptions), then for each size (seeded cumulatively) measures, for that partner, over HTTP
(django.test.Client, the whole middleware stack):

* the library page of one section (``?page=1`` and its last page), after checking that each lists
  exactly the policy's items for that page, in order;
* the issue's baseline, interleaved with it in the same run: a plain Wagtail listing of the same
  section, ``Page.objects.live().child_of(section)`` in a Paginator of the same page size, rendered
  by a minimal template (``plain_listing``: routed by Wagtail, no access check), page 1 and its own
  last page; medians over ``--repeat``; goal: library / plain at most 1.5;
* SQL queries per library page (pages 1, 2 and last); goal: at most 20, the same at every size.

``--breakdown`` times the parts of page 1 at the largest size; ``--explain`` prints the database's
plans of the listing's statements; ``--show-queries`` lists the queries of one render of each
page. ``--json PATH`` writes all results (used for docs/performance.md).
"""

from __future__ import annotations

import argparse
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
        "--section",
        choices=("products", "training", "marketing-emea", "gold-programme", "library"),
        default="products",
        help="the library section measured (default: products; library: the top section, "
        "whose items are mostly below its sub-sections)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time each part of page 1 at the last size"
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
    others: list  # members of other organisations (a realistic user table; not measured)
    library: object
    sections: list  # (Node, weight)
    measured: Node  # the section whose page is measured
    permissions: dict  # codename -> Permission
    parents: list = field(default_factory=list)  # items at depth <= 5 that may get children
    last_child: dict = field(default_factory=dict)  # path -> last child's step number
    created: int = 0


def build_world(measured: str = "products") -> World:
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
    nodes = {"library": Node(library.path, library.depth, library.url_path)}
    for title, slug, weight, rule in specs:
        section = LibraryIndexPage(
            title=title, slug=slug, audience_min_tier=rule.get("min_tier"), locale=library.locale
        )
        section.audience_regions = rule.get("regions", [])
        library.add_child(instance=section)
        section.save_revision().publish()
        section.refresh_from_db()
        nodes[slug] = Node(section.path, section.depth, section.url_path)
        sections.append((nodes[slug], weight))
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
        measured=nodes[measured],
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


# --- the baseline: a plain Wagtail listing ---------------------------------------------------

PLAIN_TEMPLATE = """{% load wagtailcore_tags %}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title></head>
<body><h1>{{ page.title }}</h1>
<p>{{ children.paginator.count }} pages</p>
<ul>{% for child in children %}
<li><a href="{% pageurl child %}">{{ child.title }}</a></li>{% endfor %}</ul>
<p>Page {{ children.number }} of {{ children.paginator.num_pages }}</p>
</body></html>"""

PLAIN_PREFIX = "/bench-plain"


@functools.cache
def plain_template():
    from django.template import engines

    return engines["django"].from_string(PLAIN_TEMPLATE)


def plain_listing(request, path: str):
    """The issue's baseline: ``Page.objects.live().child_of(section)``, a Paginator of the
    portal's page size and a minimal template, for the section Wagtail routes ``path`` to.

    Served as ``wagtail.views.serve`` serves a page — routing (site, locale, one lookup per URL
    segment), Wagtail's own serve hooks (the request-method check, the view-restriction check)
    and ``Page.serve``'s rendering (Wagtail's base context, a TemplateResponse with the request:
    the project's context processors run) — behind the same middleware as the portal (session,
    user, CSRF, CSP, ...), but without the portal's hooks (its access check), filters or base
    layout: a bare Wagtail index page of this project.
    """
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.http import Http404, HttpResponse
    from django.template.response import TemplateResponse
    from wagtail import hooks
    from wagtail.models import Page

    route = Page.route_for_request(request, path)
    if route is None:
        raise Http404
    section, args, kwargs = route

    def render(page, request, *args, **kwargs):
        # What Page.serve does: Wagtail's base context, the template rendered with the request
        # (TemplateResponse, so the project's context processors run as on any page).
        context = Page.get_context(page, request, *args, **kwargs)
        context["children"] = Paginator(
            Page.objects.live().child_of(page), settings.PORTAL_PAGE_SIZE
        ).get_page(request.GET.get("page"))
        return TemplateResponse(request, plain_template(), context)

    def wagtails(name: str) -> list:
        return [fn for fn in hooks.get_hooks(name) if fn.__module__.startswith("wagtail.")]

    chain = render
    for fn in reversed(wagtails("on_serve_page")):
        chain = fn(chain)
    for fn in wagtails("before_serve_page"):
        result = fn(section, request, args, kwargs)
        if isinstance(result, HttpResponse):
            return result
    return chain(section, request, args, kwargs)


def install_plain_view() -> None:
    """Serve ``plain_listing`` at /bench-plain/<the section's URL> next to the portal's URLs."""
    import types

    from django.conf import settings
    from django.urls import clear_url_caches, path

    import portal_site.urls

    module = types.ModuleType("bench_listing_urls")
    module.urlpatterns = [
        path(f"{PLAIN_PREFIX.strip('/')}/<path:path>", plain_listing),
        *portal_site.urls.urlpatterns,
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Row:
    size: int
    seed_s: float
    total: int  # live items below the measured section
    visible: int  # of those, what the partner may see
    children: int  # live children of the section (the plain listing's count)
    last_page: int  # the library page's last page for the partner
    plain_last_page: int  # the plain listing's last page
    queries: dict[str, int]  # library page: p1, p2, last
    plain_queries: dict[str, int]  # plain listing: p1, last
    library_ms: dict[str, float]  # HTTP medians: p1, last
    plain_ms: dict[str, float]
    ratio: dict[str, float]
    cpu_ratio: dict[str, float]  # the same medians in CPU time of this process (for information)
    grants: int
    exceptions: int


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(fns: list[Callable[[], object]], repeat: int) -> tuple[list[float], list[float]]:
    """Time ``fns`` in turn (order rotated and reversed each round) after one warm-up each.

    Returns each one's median wall time and median CPU time of this process, in ms. On a noisy
    machine the rotation spreads any slow spell over all of them; the CPU time (everything the
    request does in this process: with SQLite, the database too) hardly depends on what else runs.
    """
    for fn in fns:
        fn()
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    for r in range(repeat):
        turn = order[r % len(order) :] + order[: r % len(order)]
        if r % 2:
            turn.reverse()
        for i in turn:
            started, started_cpu = time.perf_counter(), time.process_time()
            fns[i]()
            cpu[i].append(time.process_time() - started_cpu)
            wall[i].append(time.perf_counter() - started)
    return [median_ms(s) for s in wall], [median_ms(s) for s in cpu]


def measured_section(world: World):
    from kb.models import LibraryIndexPage

    return LibraryIndexPage.objects.get(path=world.measured.path)


def section_scope(section):
    """The selector's scope: items below the section (and its translations)."""
    from django.db.models import Q

    scope = Q()
    for s in section.get_translations(inclusive=True).only("path", "depth"):
        scope |= Q(path__startswith=s.path, depth__gt=s.depth)
    return scope


def visible_items(world: World, user=None):
    """What the partner may see below the measured section, in the listing's order (the policy's
    queryset filter, not the listing: the bench checks the page against it)."""
    from kb.models import PortalItemPage

    user = copy.copy(user or world.partner)
    user.__dict__.pop("_portal_principal", None)
    section = measured_section(world)
    return (
        PortalItemPage.objects.live()
        .visible_to(user)
        .filter(section_scope(section), locale_id=section.locale_id)
        .order_by("-last_published_at", "-pk")
    )


def partner_client(world: World):
    from django.test import Client

    client = Client()
    client.force_login(world.partner)
    return client


def get(client, url: str, page: int):
    response = client.get(url, {"page": page})
    if response.status_code != 200:
        raise SystemExit(f"GET {url}?page={page}: HTTP {response.status_code}")
    return response


def render_queries(client, url: str, page: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get(client, url, page)
    with CaptureQueriesContext(connection) as ctx:
        get(client, url, page)
    return [q["sql"] for q in ctx.captured_queries]


def check_pages(world: World, client, url: str, pages: dict[str, int]) -> None:
    """Each measured library page lists exactly the policy's items for it, in order."""
    import html

    from django.conf import settings

    size = settings.PORTAL_PAGE_SIZE
    expected = visible_items(world)
    for label, number in pages.items():
        window = list(expected[(number - 1) * size : number * size + 1])
        titles, after = [p.title for p in window[:size]], window[size:]
        content = html.unescape(get(client, url, number).content.decode())
        positions = [content.find(f">{title}</a>") for title in titles]
        if not titles or -1 in positions or positions != sorted(positions):
            raise SystemExit(f"library page {label} ({url}?page={number}) is not the policy's")
        if after and f">{after[0].title}</a>" in content:
            raise SystemExit(f"library page {label} ({url}?page={number}) lists too much")


def measure(world: World, size: int, seed_s: float, args) -> Row:
    from django.conf import settings
    from wagtail.models import Page

    from permissions.models import EXCEPTION_CODENAME, GRANT_CODENAME, PageGroupObjectPermission

    section = measured_section(world)
    url = section.url
    plain_url = f"{PLAIN_PREFIX}{url}"
    page_size = settings.PORTAL_PAGE_SIZE
    visible = visible_items(world).count()
    total = (
        Page.objects.live()
        .descendant_of(section)
        .filter(depth__gt=section.depth + 0)
        .exclude(content_type__model="libraryindexpage")
        .count()
    )
    children = Page.objects.live().child_of(section).count()
    if not 0 < visible < total:
        raise SystemExit(f"the partner must see some but not all items ({visible}/{total})")
    last_page = max(1, math.ceil(visible / page_size))
    plain_last = max(1, math.ceil(children / page_size))
    client = partner_client(world)
    pages = {"p1": 1, "p2": 2, "last": last_page}
    check_pages(world, client, url, pages)
    queries = {label: len(render_queries(client, url, n)) for label, n in pages.items()}
    plain_pages = {"p1": 1, "last": plain_last}
    plain_queries = {
        label: len(render_queries(client, plain_url, n)) for label, n in plain_pages.items()
    }

    library_ms, plain_ms, ratio, cpu_ratio = {}, {}, {}, {}
    for label in ("p1", "last"):
        (ours, plain), (ours_cpu, plain_cpu) = interleaved(
            [
                functools.partial(get, client, url, pages[label]),
                functools.partial(get, client, plain_url, plain_pages[label]),
            ],
            args.repeat,
        )
        library_ms[label], plain_ms[label] = ours, plain
        ratio[label] = ours / plain
        cpu_ratio[label] = ours_cpu / plain_cpu
    perms = PageGroupObjectPermission.objects.filter(group_id=world.partner_org.group_id)
    return Row(
        size=size,
        seed_s=seed_s,
        total=total,
        visible=visible,
        children=children,
        last_page=last_page,
        plain_last_page=plain_last,
        queries=queries,
        plain_queries=plain_queries,
        library_ms=library_ms,
        plain_ms=plain_ms,
        ratio=ratio,
        cpu_ratio=cpu_ratio,
        grants=perms.filter(permission__codename=GRANT_CODENAME).count(),
        exceptions=perms.filter(permission__codename=EXCEPTION_CODENAME).count(),
    )


# --- diagnostics (--breakdown, --explain) ----------------------------------------------------


def breakdown(world: World, repeat: int) -> list[dict]:
    """Where the library page's time goes at the current size (page 1, medians, interleaved).

    Each part is one piece of what the request does, timed alone with a fresh user object (so the
    principal is resolved as in a request); the HTTP renders of both pages frame them.
    """
    from django.db import connection
    from django.http import QueryDict
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from kb.selectors import library_listing
    from permissions.policies.pages import page_policy
    from permissions.policies.principal import principal_for

    section = measured_section(world)
    client = partner_client(world)
    url = section.url
    params = QueryDict("page=1")

    def fresh_user():
        user = copy.copy(world.partner)
        user.__dict__.pop("_portal_principal", None)
        return user

    def selector():
        listing = library_listing(user=fresh_user(), section=section, params=params)
        list(listing.page.object_list)
        return listing

    request = RequestFactory().get(url, {"page": 1})
    request.user = fresh_user()
    context = section.get_context(request)
    list(context["listing"].page.object_list)

    def render():
        return render_to_string(section.get_template(request), context, request=request)

    def replay(sql: str):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchall()

        return run

    statements = [sql for sql in render_queries(client, url, 1) if "kb_portalitempage" in sql]
    parts = {
        "library page, HTTP": functools.partial(get, client, url, 1),
        "plain listing, HTTP": functools.partial(get, client, f"{PLAIN_PREFIX}{url}", 1),
        "  principal_for (fresh user)": lambda: principal_for(fresh_user()),
        "  can_view(section) (serve hook)": lambda: page_policy.can_view(fresh_user(), section),
        "  library_listing + its rows": selector,
        "  template render (listing built)": render,
        **{f"    SQL alone: {sql[:40]}… {sql[-40:]}": replay(sql) for sql in statements},
    }
    labelled = {}
    for label, fn in parts.items():
        with CaptureQueriesContext(connection) as ctx:
            fn()
        labelled[f"{label} [{len(ctx.captured_queries)} q]"] = fn
    wall, cpu = interleaved(list(labelled.values()), repeat)
    return [{"part": k, "ms": w, "cpu_ms": c} for k, w, c in zip(labelled, wall, cpu, strict=True)]


def explain(world: World) -> list[tuple[str, str]]:
    """The plans of the listing's own statements (those reading kb_portalitempage), page 1."""
    from django.db import connection

    section = measured_section(world)
    wanted = [
        sql
        for sql in render_queries(partner_client(world), section.url, 1)
        if "kb_portalitempage" in sql
    ]
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    plans = []
    with connection.cursor() as cursor:
        for sql in wanted:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
            plans.append((sql, "\n".join(" | ".join(str(c) for c in row) for row in rows)))
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
        f"queries per page ≤ {GOAL_MAX_QUERIES}": all(
            max(r.queries.values()) <= GOAL_MAX_QUERIES for r in rows
        ),
        "queries constant in N": len(set(counts)) == 1,
        f"library / plain ≤ {GOAL_MAX_RATIO} (page 1 and last)": all(
            max(r.ratio.values()) <= GOAL_MAX_RATIO for r in rows
        ),
    }


def report(console, rows: list[Row], description: str, section: str) -> None:
    from rich.table import Table

    table = Table(
        title=f"Library page vs plain Wagtail listing, section '{section}', HTTP medians — "
        f"{description}"
    )
    for name in (
        "N",
        "visible / below",
        "children",
        "queries p1/p2/last",
        "plain q p1/last",
        "library ms p1",
        "plain ms p1",
        "ratio p1",
        "last pages",
        "library ms last",
        "plain ms last",
        "ratio last",
        "CPU ratio p1/last",
        "seed s",
    ):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            f"{r.size:,}",
            f"{r.visible:,} / {r.total:,}",
            f"{r.children:,}",
            "/".join(str(v) for v in r.queries.values()),
            "/".join(str(v) for v in r.plain_queries.values()),
            f"{r.library_ms['p1']:.1f}",
            f"{r.plain_ms['p1']:.1f}",
            f"{r.ratio['p1']:.2f}",
            f"{r.last_page} / {r.plain_last_page}",
            f"{r.library_ms['last']:.1f}",
            f"{r.plain_ms['last']:.1f}",
            f"{r.ratio['last']:.2f}",
            f"{r.cpu_ratio['p1']:.2f} / {r.cpu_ratio['last']:.2f}",
            f"{r.seed_s:.1f}",
        )
    console.print(table)
    for goal, ok in verdicts(rows).items():
        console.print(f"{goal}: " + ("[green]PASS[/green]" if ok else "[red]FAIL[/red]"))


def report_breakdown(console, size: int, parts: list[dict]) -> None:
    from rich.table import Table

    table = Table(title=f"Page 1 at N={size:,}, part by part (medians)")
    table.add_column("part", justify="left")
    table.add_column("ms", justify="right")
    table.add_column("CPU ms", justify="right")
    for p in parts:
        table.add_row(p["part"], f"{p['ms']:.2f}", f"{p['cpu_ms']:.2f}")
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
        install_plain_view()
        world = build_world(args.section)
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
                f"  N={size:,}: queries {r.queries}, library/plain p1 {r.ratio['p1']:.2f} "
                f"({r.library_ms['p1']:.1f} / {r.plain_ms['p1']:.1f} ms), last "
                f"{r.ratio['last']:.2f} ({r.library_ms['last']:.1f} / "
                f"{r.plain_ms['last']:.1f} ms); "
                f"CPU ratios {r.cpu_ratio['p1']:.2f} / {r.cpu_ratio['last']:.2f}"
            )
        report(console, rows, description, args.section)
        extra: dict = {}
        if args.show_queries:
            section = measured_section(world)
            client = partner_client(world)
            for label, url in (
                ("library page", section.url),
                ("plain", PLAIN_PREFIX + section.url),
            ):
                console.rule(f"queries of one {label} render (page 1, N={rows[-1].size:,})")
                for n, sql in enumerate(render_queries(client, url, 1), start=1):
                    console.print(f"{n:2d}. {sql[:200]}", markup=False, highlight=False)
        if args.breakdown:
            parts = breakdown(world, args.repeat)
            report_breakdown(console, rows[-1].size, parts)
            extra["breakdown"] = parts
        if args.explain:
            plans = explain(world)
            for sql, plan in plans:
                console.rule("query")
                console.print(sql, markup=False, highlight=False)
                console.rule("plan")
                console.print(plan, markup=False, highlight=False)
            extra["explain"] = plans
        total_s = time.perf_counter() - started
        console.print(f"total time {total_s:.0f} s")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "machine": description,
                        "section": args.section,
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
