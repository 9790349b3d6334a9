"""``manage.py drain_search_outbox``: apply the index updates waiting in the search outbox."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from search.outbox import outbox_drain, outbox_pending


class Command(BaseCommand):
    help = (
        "Apply the search index updates that committed changes left in the outbox (normally "
        "done by a task after each change; run this from cron, or with --every as a sidecar, "
        "to pick up rows whose process died between its commit and its enqueue)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="keep running and drain every SECONDS (default: drain once and exit)",
        )

    def handle(self, *args, every: float = 0, **options):
        while True:
            report = outbox_drain()
            if report.applied or report.failed or options.get("verbosity", 1) >= 2:
                self.stdout.write(
                    f"search outbox: {report.applied} applied, {report.failed} failed "
                    f"(retried later), {outbox_pending()} waiting"
                )
            if every <= 0:
                return
            time.sleep(every)
