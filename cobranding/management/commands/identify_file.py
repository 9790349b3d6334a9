"""``manage.py identify_file PATH [--json]``: who a co-branded file was made for."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cobranding.identify import NotIdentified, identify_bytes


class Command(BaseCommand):
    help = "Identify who a co-branded file was made for (from its per-download identifier)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the co-branded file (PDF, PNG or JPEG)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, path: str, json: bool = False, **options):  # noqa: A002
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            record = identify_bytes(content)
        except NotIdentified as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(_dumps(record))
            return
        labels = [
            ("organization", "Organisation"),
            ("user", "User"),
            ("item", "Item"),
            ("item_title", "Title"),
            ("version", "Master version"),
            ("rendered_at", "Rendered at"),
            ("issued_at", "Downloaded at"),
            ("share_link", "Share link"),
            ("token", "Identifier"),
        ]
        for key, label in labels:
            value = record.get(key)
            self.stdout.write(f"{label + ':':16} {'-' if value in (None, '') else value}")


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True)
