"""Rebuild the portal search indexes with a progress bar.

Engine: a new index per locale is filled, then every alias is swapped in one atomic call (searches
keep answering from the old indexes meanwhile). Database: replaced in one transaction.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from search.documents import count_documents, iter_documents
from search.services import index_backends


class Command(BaseCommand):
    help = "Rebuild the portal search indexes (new index per locale, then an atomic alias swap)."

    def add_arguments(self, parser):
        parser.add_argument("--no-files", action="store_true", help="Skip PDF text extraction.")
        parser.add_argument("--no-progress", action="store_true", help="Plain output (CI, logs).")

    def handle(self, *args, no_files=False, no_progress=False, **options):
        total = count_documents()
        for backend in index_backends():
            documents = iter_documents(with_files=not no_files)
            if no_progress:
                count = backend.rebuild(documents)
            else:
                with Progress(
                    TextColumn(f"[bold]{backend.name}[/]"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    transient=False,
                ) as progress:
                    bar = progress.add_task(backend.name, total=total)
                    count = backend.rebuild(
                        documents, progress=lambda n, bar=bar: progress.advance(bar, n)
                    )
            self.stdout.write(f"{backend.name}: indexed {count} of {total} items")
