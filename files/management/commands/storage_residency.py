"""Report files stored outside the bucket their residency rules require; --move moves them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from files.residency import CONFLICT, placement_move, placements


def _bucket(key: str | None) -> str:
    return "default" if key is None else key


class Command(BaseCommand):
    help = (
        "List stored files that are not in the bucket their data-residency rules require "
        "(and conflicts: files used by items of different regions). With --move, copy each "
        "misplaced file, verify it, repoint its row and delete the old object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--move", action="store_true", help="move misplaced files")

    def handle(self, *args: Any, move: bool = False, **options: Any) -> None:
        misplaced = conflicts = moved = failed = 0
        for placement in placements():
            if placement.required == CONFLICT:
                conflicts += 1
                self.stdout.write(
                    f"CONFLICT {placement.label}: {placement.name} is used by items of "
                    "different regions; left where it is"
                )
                continue
            if not placement.misplaced:
                continue
            misplaced += 1
            line = (
                f"{placement.label}: {placement.name} is in {_bucket(placement.current)}, "
                f"must be in {_bucket(placement.required)}"
            )
            if not move:
                self.stdout.write(f"MISPLACED {line}")
                continue
            try:
                new = placement_move(placement)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next file
                failed += 1
                self.stderr.write(f"FAILED {line}: {exc}")
                continue
            moved += 1
            self.stdout.write(f"MOVED {line} -> {new}")
        self.stdout.write(
            f"{misplaced} misplaced, {moved} moved, {conflicts} conflicts, {failed} failed"
        )
        if failed:
            raise CommandError(f"{failed} files could not be moved")
