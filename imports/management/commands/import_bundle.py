"""``manage.py import_bundle PATH [--json]``: import a partner bundle (docs/bundle-format.md)."""

from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from files.journal import journal_recover
from imports.importer import bundle_import
from imports.parsing import BundleError, bundle_parse


class ImportInterrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM. A KeyboardInterrupt, so that psycopg cancels a
    running statement and every ``except Exception`` on the way lets it through to the
    rollback and the journal's clean-up."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _interruptible():
    """SIGTERM stops the import like Ctrl-C does: roll back, settle the journal, exit 143."""
    raised = False

    def handler(signum, frame):
        nonlocal raised
        if raised:
            return  # already cleaning up: a second signal must not cut that short
        raised = True
        raise ImportInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (call_command from a thread): no handler
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


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

        with _interruptible():
            try:
                # Journals of imports that were killed (SIGKILL, power cut): their
                # unreferenced files go now, not after the orphan sweep's grace period.
                for settled in journal_recover():
                    progress(
                        f"recovered an interrupted import: {len(settled.deleted)} files "
                        f"removed, {len(settled.kept)} kept"
                    )
                result = bundle_import(data=bundle_parse(text), progress=progress)
            except BundleError as exc:
                raise CommandError(str(exc)) from exc
            except KeyboardInterrupt as exc:  # SIGTERM (ImportInterrupted) or Ctrl-C
                raise CommandError(_interrupted(exc), returncode=_exit_code(exc)) from exc
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


def _exit_code(exc: KeyboardInterrupt) -> int:
    return 128 + getattr(exc, "signum", signal.SIGINT)


def _interrupted(exc: KeyboardInterrupt) -> str:
    name = signal.Signals(getattr(exc, "signum", signal.SIGINT)).name
    settled = getattr(exc, "settled", None)
    if settled is None:
        return (
            f"stopped by {name}; the database rolled back or committed as a whole, and the "
            "import journal is left for the next import_bundle or storage_orphans to settle"
        )
    if getattr(exc, "import_committed", False):
        return f"stopped by {name} after the commit: the import is complete"
    return (
        f"stopped by {name}: rolled back, {len(settled.deleted)} stored files removed "
        "(nothing was imported)"
    )


def _dumps(payload: dict) -> str:
    # The option is called --json, which shadows the module inside handle().
    return json.dumps(payload, indent=2, ensure_ascii=False)
