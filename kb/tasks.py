"""Background work of kb (django-tasks)."""

from __future__ import annotations

import logging

from django_tasks import task

from files.residency import placement_move

from .placements import item_placements

logger = logging.getLogger("portal.storage")


@task()
def item_files_place(page_id: int) -> int:
    """Move a published item's files into the bucket their residency rules require.

    Files uploaded in the admin start in the default bucket (they belong to no item yet); this
    runs when the item is published. Conflicts are left for ``storage_residency`` to report.
    Returns the number of files moved.
    """
    moved = 0
    for placement in item_placements(page_id):
        if placement.misplaced:
            placement_move(placement)
            moved += 1
            logger.info("moved %s to %s", placement.label, placement.required or "default")
    return moved
