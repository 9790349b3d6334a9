"""``manage.py seed_demo``: build (or refresh) the demo world described in docs/demo.md."""

from __future__ import annotations

import io

from django.core.management.base import BaseCommand
from rich import box
from rich.console import Console
from rich.table import Table

from demo.builder import DemoSummary, demo_seed


class Command(BaseCommand):
    help = (
        "Create or update the demo partner portal: organisations, logins, library sections, "
        "product sheets, training guides and marketing assets with generated images and PDFs. "
        "Idempotent: running it again changes nothing that can be counted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet", action="store_true", help="Print only a one-line result, no tables."
        )

    def handle(self, *args, quiet: bool = False, **options):
        summary = demo_seed(stdout=None if quiet else self.stdout)
        if quiet:
            self.stdout.write(
                f"Demo ready: {summary.organizations} organisations, {summary.users} users, "
                f"{summary.items} items in {summary.seconds:.1f} s."
            )
            return
        self.stdout.write(render(summary), ending="")


def render(summary: DemoSummary) -> str:
    """The summary as plain-text tables (rich renders into a buffer, so Django's OutputWrapper
    and call_command(stdout=...) receive ordinary text)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=172, force_terminal=False, color_system=None)

    counts = Table(title="Demo content", show_header=False, title_justify="left", box=box.SIMPLE)
    counts.add_column("what")
    counts.add_column("count", justify="right")
    counts.add_row("Organisations", str(summary.organizations))
    counts.add_row("  suspended", ", ".join(summary.suspended) or "—")
    counts.add_row("Users", str(summary.users))
    counts.add_row("Library sections (en)", str(summary.sections))
    for kind, n in sorted(summary.items_by_kind.items()):
        counts.add_row(f"Items: {kind.replace('_', ' ')}", str(n))
    for language, n in sorted(summary.items_by_locale.items()):
        counts.add_row(f"Items in locale {language}", str(n))
    counts.add_row("Items created / updated", f"{summary.items_created} / {summary.items_updated}")
    counts.add_row("Images", str(summary.images))
    counts.add_row("Documents", str(summary.documents))
    console.print(counts)

    rules = Table(
        title="Audience rules exercised", show_header=False, title_justify="left", box=box.SIMPLE
    )
    rules.add_column("rule")
    rules.add_column("items", justify="right")
    for rule, n in summary.rules.items():
        rules.add_row(rule, str(n))
    console.print(rules)

    logins = Table(
        title="Logins (demo passwords: never use them outside a demo)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in ("e-mail", "password", "organisation", "tier", "region", "type", "role"):
        logins.add_column(column, no_wrap=column in ("e-mail", "password"))
    logins.add_column("lang")
    logins.add_column("sees", justify="right")
    for row in summary.logins:
        logins.add_row(
            row.email,
            row.password,
            row.organization,
            row.tier,
            row.region,
            row.partner_type,
            row.role,
            row.language,
            str(row.visible_items),
        )
    console.print(logins)
    console.print(
        "'sees' = live items the login may see. Staff log in at /admin/; "
        "docs/demo.md says what each login should and should not see."
    )
    console.print(f"Done in {summary.seconds:.1f} s.")
    return buffer.getvalue()
