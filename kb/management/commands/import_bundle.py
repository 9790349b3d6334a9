"""``manage.py import_bundle PATH [--json]``: import a partner bundle (docs/bundle-format.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kb.bundles import BundleError, bundle_import, bundle_parse


class Command(BaseCommand):
    help = (
        "Import a bundle of tiers, regions, partner types, organisations, users and items "
        "(with files) from a JSON file, all or nothing. PATH '-' reads standard input."
    )
    # call_command(..., stdin=StringIO(...)) lets tests feed "-" without touching sys.stdin.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("path", help="bundle JSON file, or - for standard input")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print only a JSON object with each item's portal URL and file download URLs",
        )

    def handle(self, *args, path: str, json: bool = False, **options):
        text = self._read(path, options.get("stdin") or sys.stdin)
        verbosity = options.get("verbosity", 1)

        def progress(line: str) -> None:
            # Progress goes to stderr so that --json leaves stdout a single JSON object.
            if verbosity >= 2:
                self.stderr.write(line)

        try:
            result = bundle_import(data=bundle_parse(text), progress=progress)
        except BundleError as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(_dumps(result.links()))
        else:
            self.stdout.write(f"Imported {path}:\n{result.summary()}")

    @staticmethod
    def _read(path: str, stdin) -> str:
        try:
            if path == "-":
                return stdin.read()
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc


def _dumps(payload: dict) -> str:
    # The option is called --json, which shadows the module inside handle().
    return json.dumps(payload, indent=2, ensure_ascii=False)
