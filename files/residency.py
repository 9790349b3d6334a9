"""Data residency: which bucket each stored file must be in, and moving it there safely.

Rules (which rows hold files, and the region each must live in, come from the apps that own the
rows, through ``placements()``; the region of an item from permissions.selectors):

- a document or image used by items restricted to one region R lives in R's bucket (or R's
  nearest ancestor's, when the map has no entry for R itself); used by items restricted to two
  different regions it is a *conflict*: reported, never moved;
- an organisation's brand kit (logo) and its co-brand renders live in its region's bucket;
- renditions follow their image (PortalRendition.get_upload_to);
- everything else lives in the default bucket.

A move is crash-safe: copy to the new name, verify (size and SHA-1 read back), repoint the row,
and only after the commit delete the old object. A crash leaves at worst an unreferenced copy,
which ``storage_orphans`` finds; never a row whose object is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import models, transaction

from .storage import prefixed, split_name

CONFLICT = "conflict"


@dataclass
class Placement:
    """One stored file of one row, where it is and where its rules want it."""

    label: str
    model: type[models.Model]
    pk: int
    field: str
    name: str
    required: str | None  # residency key, None for the default bucket, or CONFLICT

    @property
    def current(self) -> str | None:
        return split_name(self.name)[0]

    @property
    def misplaced(self) -> bool:
        return self.required != CONFLICT and self.required != self.current


PLACEMENTS_HOOK = "portal_file_placements"


def required_key(keys: set[str | None]) -> str | None:
    """The one bucket a file used under ``keys`` must live in: the single regional key, the
    default (None), or CONFLICT when two regions claim it."""
    regional = {k for k in keys if k is not None}
    if len(regional) > 1:
        return CONFLICT
    return next(iter(regional), None)


def placements() -> Iterator[Placement]:
    """Every file-bearing row with its required bucket.

    files/ knows how files are stored, not what they belong to: each app that owns file-bearing
    rows contributes them through the ``portal_file_placements`` Wagtail hook (a callable that
    yields Placements; kb: documents and images by the items that use them, permissions: brand
    kits, cobranding: renders), in the hooks' ``order``."""
    from wagtail import hooks

    for provider in hooks.get_hooks(PLACEMENTS_HOOK):
        yield from provider()


def _sha1(name: str) -> tuple[int, str]:
    digest, size = hashlib.sha1(usedforsecurity=False), 0
    with default_storage.open(name, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def placement_move(placement: Placement) -> str:
    """Move one misplaced file to the bucket its rules require; return the new name.

    Raises:
        RuntimeError: the copy did not verify (the copy is removed, the row unchanged).
    """
    old = placement.name
    before = _sha1(old)
    with default_storage.open(old, "rb") as handle:
        new = default_storage.save(prefixed(old, placement.required), handle)
    if _sha1(new) != before:
        default_storage.delete(new)
        raise RuntimeError(f"{placement.label}: copy of {old} did not verify; nothing changed")
    with transaction.atomic():
        updated = placement.model._default_manager.filter(
            pk=placement.pk, **{placement.field: old}
        ).update(**{placement.field: new})
        if not updated:
            # The row changed meanwhile: keep it as it is and drop our copy.
            transaction.on_commit(lambda: default_storage.delete(new))
            return old
        if placement.model.__name__ == "PortalImage":
            # Renditions regenerate next to their image (PortalRendition.get_upload_to).
            from files.models import PortalRendition

            for rendition in PortalRendition.objects.filter(image_id=placement.pk):
                rendition.delete()
        transaction.on_commit(lambda: default_storage.delete(old))
    return new
