"""List stored objects that no row references, and rows whose object is missing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db import models
from django.utils import timezone

from files.journal import journal_recover, live_journal_names
from files.storage import iter_objects


def referenced_names() -> dict[str, str]:
    """Every file name any FileField of any model points at → "app.Model pk"."""
    names: dict[str, str] = {}
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        for field in fields:
            rows = model._default_manager.exclude(**{field: ""}).exclude(
                **{f"{field}__isnull": True}
            )
            for pk, name in rows.values_list("pk", field):
                names[name] = f"{model._meta.label} {pk}"
    return names


class Command(BaseCommand):
    help = (
        "List objects in the default and every residency bucket that no row references "
        "(orphans) and rows whose object is missing. --delete first settles the journals of "
        "imports that were killed (their unreferenced files go at once, files/journal.py), then "
        "removes the other orphans older than --min-age minutes (younger ones may be uploads "
        "whose row is not committed yet); files of a running import are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="delete orphan objects")
        parser.add_argument("--min-age", type=int, default=60, help="minutes (default 60)")

    def handle(self, *args: Any, delete: bool = False, min_age: int = 60, **options: Any) -> None:
        if delete:
            # Killed imports' journals: their unreferenced files go now, whatever their age.
            for settled in journal_recover():
                for name in settled.deleted:
                    self.stdout.write(f"DELETED (interrupted import) {name}")
        running = live_journal_names()
        referenced = referenced_names()
        cutoff = timezone.now() - timedelta(minutes=min_age)
        seen: set[str] = set()
        orphans = deleted = young = 0
        for key in [None, *settings.PORTAL_STORAGE_REGIONS]:
            for name, modified in iter_objects(key):
                seen.add(name)
                if name in referenced:
                    continue
                orphans += 1
                if name in running:
                    young += 1
                    self.stdout.write(f"ORPHAN (import still running, kept) {name}")
                    continue
                if modified is not None and modified > cutoff:
                    young += 1
                    self.stdout.write(f"ORPHAN (younger than {min_age} min, kept) {name}")
                    continue
                if delete:
                    default_storage.delete(name)
                    deleted += 1
                    self.stdout.write(f"DELETED {name}")
                else:
                    self.stdout.write(f"ORPHAN {name}")
        missing = 0
        for name, row in sorted(referenced.items()):
            if name not in seen and not default_storage.exists(name):
                missing += 1
                self.stdout.write(f"MISSING {row}: {name}")
        self.stdout.write(
            f"{orphans} orphans ({deleted} deleted, {young} too young), {missing} rows missing "
            "their object"
        )
