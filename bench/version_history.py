"""Benchmark the pages that show a file's versions: an item whose file has 1,000 versions
against one whose file has 1 version, measured in the same run (issue #12, deliverable 9).

Usage (from the project root)::

    .venv/bin/python bench/version_history.py [--versions 1000] [--repeat 15]
    .venv/bin/python bench/version_history.py --admin-url '/admin/files/{lineage}/versions/'

It builds its own throwaway SQLite database and MEDIA_ROOT, the portal's site structure, one
partner and one staff user, and product sheets: "one" (a file with 1 version), "many" (a file
with ``--versions`` versions, the newest published) and, for reference, "page" (a file with
``--page-versions`` versions: one full page of the paginated staff history). The versions are
real document rows of one lineage, each with its own stored object (small PDFs, a few distinct
contents shared by many versions); ``--seed service`` adds each through
``files.versions.document_version_add`` (the upload path: validation, storage, numbering),
``--seed bulk`` (default) writes the rows in bulk with the same fields.

Measured over HTTP (django.test.Client, the whole middleware stack), interleaved, medians over
``--repeat``:

* (a) the partner-facing item page (it shows the file's current version) as the partner;
* (b) the staff version history page of the file (the admin's Versions view), as a superuser,
  first page of its pagination.

Goal: many / one at most 1.5 for each. many / page (information) separates growth with the
number of versions from the cost of showing a full page of rows instead of one. The staff
page's URL is found by URL name (``--admin-url-name``, several names tried) or by resolving
candidate paths, or given with ``--admin-url`` (``{lineage}`` and ``{document}`` are filled
in); when no such view exists in the code measured, (b) is skipped with a message and only (a)
decides. Also printed: SQL queries per page (they should not grow with the number of versions).
``--json PATH`` writes the results. The exit status is 0 only when every goal measured passes.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_MAX_RATIO = 1.5
DISTINCT_CONTENTS = 8  # the versions share this many different PDFs
BATCH = 250

# Where the admin's Versions view may live (the names first, then paths to resolve).
ADMIN_URL_NAMES = (
    "portal_file_versions",  # kb.wagtail_hooks (the admin's Versions view, issue #12)
    "files:document_versions",
    "files_versions:index",
    "files_versions:history",
    "document_versions",
    "document_version_history",
    "wagtaildocs:versions",
    "wagtaildocs:document_versions",
)
CATCH_ALL_VIEWS = ("wagtail_serve", "wagtail.admin.views.home.default")
ADMIN_PATHS = (
    "/admin/files/{lineage}/versions/",
    "/admin/files/versions/{lineage}/",
    "/admin/documents/{document}/versions/",
    "/admin/documents/versions/{lineage}/",
    "/admin/versions/{lineage}/",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1000, help="versions of the big file")
    parser.add_argument(
        "--page-versions",
        type=int,
        default=50,
        help="versions of a third file, one full page of the staff history (the admin's "
        "VERSIONS_PER_PAGE); 0 leaves it out (default: 50)",
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed repeats per measure")
    parser.add_argument(
        "--seed",
        choices=("bulk", "service"),
        default="bulk",
        help="bulk: rows written in bulk (default); service: document_version_add per version",
    )
    parser.add_argument(
        "--admin-url",
        default=None,
        help="the staff history page's path, with {lineage} and/or {document} (default: found)",
    )
    parser.add_argument(
        "--admin-url-name",
        action="append",
        default=[],
        help="a URL name of the staff history view (taking the lineage); may be repeated",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.versions < 2:
        parser.error("--versions must be at least 2")
    if args.page_versions and not 1 < args.page_versions < args.versions:
        parser.error("--page-versions must be 0, or between 1 and --versions")
    if args.repeat < 3:
        parser.error("--repeat must be at least 3")
    return args


def configure() -> Path:
    """Point Django at a throwaway SQLite database and media folder, set it up and migrate."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal_site.settings.dev")
    tmp = Path(tempfile.mkdtemp(prefix="bench-versions-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ["DATABASE_CONN_MAX_AGE"] = "600"

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command

    # As in production: no per-query debug wrapper on either side of the comparison.
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    return tmp


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    partner: Any
    staff: Any
    items: dict  # "one" / "page" / "many" -> the item page
    lineages: dict  # the same names -> the file's lineage
    current: dict  # the same names -> the published version (document)


def pdf(n: int) -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": f"Datasheet content {n}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_world(args: argparse.Namespace, progress) -> World:
    from kb.services import (
        FileSpec,
        attachment_version_propose,
        item_upsert,
        library_for_locale,
        site_structure_ensure,
    )
    from permissions.models import PartnerType, Region, Tier
    from permissions.services import organization_upsert, user_upsert

    site_structure_ensure(hostname="testserver", port=80)
    org = organization_upsert(
        key="bench-partner",
        name="Bench Partner GmbH",
        tier=Tier.objects.get_or_create(key="silver", defaults={"name": "Silver", "rank": 2})[0],
        region=Region.objects.get_or_create(key="emea", defaults={"name": "EMEA"})[0],
        partner_type=PartnerType.objects.get_or_create(
            key="reseller", defaults={"name": "Reseller"}
        )[0],
        country="DE",
    )
    partner = user_upsert(
        email="partner@bench.example", password=None, preferred_language="en", organization=org
    )
    from accounts.models import User

    staff = User.objects.create_superuser(email="admin@bench.example", password=None)
    library = library_for_locale("en")
    items, lineages, current = {}, {}, {}
    sizes = {"one": 1, "page": args.page_versions, "many": args.versions}
    for name in [name for name, size in sizes.items() if size]:
        items[name] = item_upsert(
            key=f"bench-versions-{name}",
            kind="product_sheet",
            title=f"Datasheet with {name} version(s)",
            parent=library,
            summary="A product sheet whose file has a history.",
            body="<p>What the sheet says.</p>",
            files=[FileSpec(name=f"{name}.pdf", content=pdf(0), title="Datasheet")],
        )
        v1 = items[name].attachments.get().document
        lineages[name], current[name] = v1.lineage, v1
        if sizes[name] == 1:
            continue
        task = progress.add_task(
            f"adding {sizes[name] - 1:,} versions to '{name}' ({args.seed})", total=sizes[name]
        )
        progress.advance(task)
        seed = seed_service if args.seed == "service" else seed_bulk
        newest = seed(v1, sizes[name], functools.partial(progress.advance, task))
        # The newest version is the one partners get: adopted and published like any version.
        attachment_version_propose(page=items[name], version=newest).publish()
        current[name] = newest
        progress.remove_task(task)
    return World(partner, staff, items, lineages, current)


def seed_service(v1, total: int, advance: Callable[[int], None]):
    """Each version through the upload path (validation, storage, numbering)."""
    from django.db import transaction

    from files.versions import document_version_add

    contents = [pdf(n) for n in range(DISTINCT_CONTENTS)]
    newest = v1
    for number in range(2, total + 1):
        with transaction.atomic():
            newest = document_version_add(
                v1,
                name=f"v{v1.lineage}-{number}.pdf",
                content=contents[number % DISTINCT_CONTENTS],
                label=f"2026.{number}",
                notes=f"Change number {number}.",
            )
        advance(1)
    return newest


def seed_bulk(v1, total: int, advance: Callable[[int], None]):
    """The same rows in bulk: each version its own stored object (a copy of one of a few PDFs),
    with the fields document_version_add sets."""
    from django.core.files.base import ContentFile
    from django.db import transaction

    from files.models import PortalDocument

    contents = [pdf(n) for n in range(DISTINCT_CONTENTS)]
    storage = v1.file.storage
    folder = v1.file.name.rsplit("/", 1)[0]
    number = 2
    while number <= total:
        rows = []
        for n in range(number, min(number + BATCH, total + 1)):
            content = contents[n % DISTINCT_CONTENTS]
            name = storage.save(f"{folder}/v{v1.lineage}-{n}.pdf", ContentFile(content))
            rows.append(
                PortalDocument(
                    title=v1.title,
                    file=name,
                    file_size=len(content),
                    file_hash=hashlib.sha1(content, usedforsecurity=False).hexdigest(),
                    sha256=hashlib.sha256(content).hexdigest(),
                    collection_id=v1.collection_id,
                    lineage=v1.lineage,
                    stable_name=v1.stable_name,
                    version_number=n,
                    version_label=f"2026.{n}",
                    version_notes=f"Change number {n}.",
                )
            )
        with transaction.atomic():
            PortalDocument.objects.bulk_create(rows)
        advance(len(rows))
        number += len(rows)
    return PortalDocument.objects.get(lineage=v1.lineage, version_number=total)


# --- the staff history page ------------------------------------------------------------------


def admin_history_url(args: argparse.Namespace, lineage: int, document: int) -> str | None:
    """The staff Versions page of file ``lineage`` (its version ``document``), or None when the
    code measured has no such view."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    if args.admin_url:
        return args.admin_url.format(lineage=lineage, document=document)
    for name in [*args.admin_url_name, *ADMIN_URL_NAMES]:
        for call in ({"args": [lineage]}, {"kwargs": {"lineage": lineage}}):
            try:
                return reverse(name, **call)
            except NoReverseMatch:
                continue
    for template in ADMIN_PATHS:
        path = template.format(lineage=lineage, document=document)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        # Catch-alls resolve every path: Wagtail's page route and the admin's "not found".
        if match.view_name not in CATCH_ALL_VIEWS:
            return path
    return None


# --- measuring ---------------------------------------------------------------------------------


def interleaved(fns: list[Callable[[], object]], repeat: int) -> tuple[list[float], list[float]]:
    """Time ``fns`` in turn (order rotated and reversed each round) after one warm-up each;
    each one's median wall and CPU time in ms (as bench/listing.py)."""
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
    return (
        [statistics.median(s) * 1000 for s in wall],
        [statistics.median(s) * 1000 for s in cpu],
    )


def get(client, url: str, expect: bytes | None = None):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: HTTP {response.status_code}")
    if expect is not None and expect not in response.content:
        raise SystemExit(f"GET {url}: the page does not show {expect!r}")
    return response


def queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)


@dataclass
class Row:
    page: str
    urls: dict[str, str]  # "one" / "page" / "many" -> the page measured
    ms: dict[str, float]  # medians
    cpu_ms: dict[str, float]
    queries: dict[str, int]
    ratio: float  # many / one: the goal
    cpu_ratio: float
    page_ratio: float | None  # many / page (one full history page): growth with N alone


def measure(label: str, client, urls: dict, repeat: int, expect: dict | None = None) -> Row:
    for name, url in urls.items():
        get(client, url, (expect or {}).get(name))
    names = list(urls)
    wall, cpu = interleaved([functools.partial(get, client, urls[n]) for n in names], repeat)
    ms, cpu_ms = dict(zip(names, wall, strict=True)), dict(zip(names, cpu, strict=True))
    return Row(
        page=label,
        urls=urls,
        ms=ms,
        cpu_ms=cpu_ms,
        queries={name: queries(client, url) for name, url in urls.items()},
        ratio=ms["many"] / ms["one"],
        cpu_ratio=cpu_ms["many"] / cpu_ms["one"],
        page_ratio=ms["many"] / ms["page"] if "page" in ms else None,
    )


def machine() -> str:
    import subprocess

    import django

    head = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Django {django.get_version()}, SQLite, "
        f"code {head or 'unknown'}"
    )


def report(console, rows: list[Row], args: argparse.Namespace, description: str) -> None:
    from rich.table import Table

    versions, full = args.versions, args.page_versions
    table = Table(title=f"{versions:,} versions vs 1 version, HTTP medians — {description}")
    columns = ["page", "1 version ms"]
    if full:
        columns.append(f"{full} versions ms")
    columns += [f"{versions:,} versions ms", f"ratio {versions:,}/1", "CPU ratio"]
    if full:
        columns.append(f"ratio {versions:,}/{full}")
    columns.append("queries")
    for name in columns:
        table.add_column(name, justify="right")
    for r in rows:
        cells = [r.page, f"{r.ms['one']:.1f}"]
        if full:
            cells.append(f"{r.ms['page']:.1f}")
        cells += [f"{r.ms['many']:.1f}", f"{r.ratio:.2f}", f"{r.cpu_ratio:.2f}"]
        if full:
            cells.append(f"{r.page_ratio:.2f}")
        cells.append(" / ".join(str(q) for q in r.queries.values()))
        table.add_row(*cells)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    args = parse_args(argv)
    console = Console()
    if console.width < 140:  # piped into a file or a narrow terminal: keep the table readable
        console = Console(width=140)
    started = time.perf_counter()
    tmp = configure()
    try:
        from django.test import Client

        description = machine()
        console.print(f"[bold]{description}[/bold]; repeat={args.repeat}; seed={args.seed}")
        columns = (
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        seeding = time.perf_counter()
        with Progress(*columns, console=console, transient=True) as progress:
            world = build_world(args, progress)
        console.print(
            f"built items whose file has 1"
            f"{f', {args.page_versions:,}' if args.page_versions else ''} and "
            f"{args.versions:,} versions in {time.perf_counter() - seeding:.1f} s; measuring…"
        )
        rows: list[Row] = []
        verdicts: dict[str, bool] = {}

        partner = Client()
        partner.force_login(world.partner)
        item_urls = {name: page.url for name, page in world.items.items()}
        # The item page shows the file at its stable URL (same for every version).
        from kb.selectors import download_url

        shown = {
            name: download_url(world.items[name], world.current[name]).encode()
            for name in world.items
        }
        rows.append(measure("(a) item page (partner)", partner, item_urls, args.repeat, shown))
        verdicts[f"item page: {args.versions:,} / 1 ≤ {GOAL_MAX_RATIO}"] = (
            rows[-1].ratio <= GOAL_MAX_RATIO
        )

        history = {
            name: admin_history_url(args, world.lineages[name], world.current[name].pk)
            for name in world.items
        }
        if None in history.values():
            console.print(
                "[yellow]skipped (b) the staff version history page: no such view in the code "
                "measured (looked for URL names "
                f"{', '.join([*args.admin_url_name, *ADMIN_URL_NAMES])} and the paths "
                f"{', '.join(ADMIN_PATHS)}); give it with --admin-url[/yellow]"
            )
        else:
            staff = Client()
            staff.force_login(world.staff)
            rows.append(measure("(b) history (staff)", staff, history, args.repeat))
            verdicts[f"version history: {args.versions:,} / 1 ≤ {GOAL_MAX_RATIO}"] = (
                rows[-1].ratio <= GOAL_MAX_RATIO
            )

        report(console, rows, args, description)
        for goal, ok in verdicts.items():
            console.print(f"{goal}: " + ("[green]PASS[/green]" if ok else "[red]FAIL[/red]"))
        total_s = time.perf_counter() - started
        console.print(f"total time {total_s:.0f} s")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "machine": description,
                        "versions": args.versions,
                        "repeat": args.repeat,
                        "seed": args.seed,
                        "total_s": total_s,
                        "rows": [asdict(r) for r in rows],
                        "verdicts": verdicts,
                        "history_skipped": None in history.values(),
                    },
                    indent=2,
                )
            )
        return 0 if all(verdicts.values()) else 1
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            console.print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
