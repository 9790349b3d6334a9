"""A file's versions: the documents of one lineage (docs/file-versions.md).

Adding a version (an upload or a rollback) writes a new document row and a new stored object;
nothing here rewrites or removes an older version except ``document_version_delete``, the
admin-only delete. Which version partners are served is decided by the page revisions that
reference a version (kb), never here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import PortalDocument
from .storage import split_name
from .uploads import StoredFiles, file_row_create


def document_versions(lineage: int) -> QuerySet[PortalDocument]:
    """Every version of the file ``lineage`` that was not deleted, newest first."""
    return PortalDocument.objects.filter(lineage=lineage, deleted_at__isnull=True).order_by(
        "-version_number"
    )


def document_newest_versions(
    queryset: QuerySet[PortalDocument],
) -> QuerySet[PortalDocument]:
    """Only the newest version of each file in ``queryset``: the admin's documents listing and
    chooser show a file once, not each of its versions (the history is the "Versions" view).
    One subquery, no per-row queries. Written as ``pk__in`` (a filter on the indexed ``id``)
    because the admin's searches hand the queryset to the search backend, and Elasticsearch
    accepts only filters on its FilterFields (it runs the subquery for the list of ids)."""
    # Deleted versions (tombstones) are neither listed nor hide an older one.
    newer = PortalDocument.objects.filter(
        lineage=OuterRef("lineage"),
        version_number__gt=OuterRef("version_number"),
        deleted_at__isnull=True,
    )
    newest = (
        PortalDocument.objects.filter(deleted_at__isnull=True).exclude(Exists(newer)).values("pk")
    )
    return queryset.filter(pk__in=newest)


def document_version_latest(lineage: int) -> PortalDocument | None:
    """The newest version uploaded (approved or not) of the file ``lineage``."""
    return document_versions(lineage).first()


@transaction.atomic
def document_version_add(
    key: PortalDocument,
    *,
    name: str,
    content: bytes,
    label: str = "",
    notes: str = "",
    user: Any = None,
    go_live_at: datetime | None = None,
    expire_at: datetime | None = None,
    rollback_of: PortalDocument | None = None,
    stored: StoredFiles | None = None,
) -> PortalDocument:
    """Add a new version to the file that ``key`` (any of its versions) belongs to.

    The upload is checked like every other (files.validation) and stored in the bucket of the
    lineage's newest version (its residency region). The new version is not served to anyone
    yet: an item adopts it through a page revision (kb.services.attachment_version_propose).

    Raises:
        UploadRejected: the file was refused; no row and no stored object are left.
    """
    lineage = key.lineage or key.pk
    # Lock the lineage's rows: two uploads at once get consecutive numbers, not one twice.
    rows = list(PortalDocument.objects.select_for_update().filter(lineage=lineage).order_by("pk"))
    alive = [row for row in rows if row.deleted_at is None] or [key]
    newest = max(alive, key=lambda row: row.version_number)
    # Deleted versions count too (their rows stay as tombstones): a number is never reused.
    number = max((row.version_number for row in rows), default=0) + 1
    region_key = split_name(newest.file.name)[0] if newest.file.name else None
    return file_row_create(
        PortalDocument,
        "document",
        name=name,
        content=content,
        title=newest.title,
        region_key=region_key,
        stored=stored,
        fields={
            "lineage": lineage,
            "stable_name": newest.stable_name or newest.filename,
            "version_number": number,
            "version_label": label,
            "version_notes": notes,
            "uploaded_by_user": user if getattr(user, "pk", None) else None,
            "go_live_at": go_live_at,
            "expire_at": expire_at,
            "rollback_of": rollback_of,
            "collection_id": newest.collection_id,
        },
    )


def document_version_rollback(
    version: PortalDocument, *, user: Any = None, notes: str = ""
) -> PortalDocument:
    """Make the bytes of an older ``version`` the newest version again, as a NEW version (the
    history is never rewritten); like any version it goes live when an item's revision that
    adopts it is published.

    Raises:
        UploadRejected: the old bytes no longer pass today's upload checks.
    """
    with version.open_file() as f:
        content = f.read()
    return document_version_add(
        version,
        name=version.filename,
        content=content,
        label=version.version_label,
        notes=notes or f"Restores v{version.version_number}",
        user=user,
        rollback_of=version,
    )


def document_version_delete(version: PortalDocument) -> None:
    """Delete one version: its stored object (in whatever bucket it is) once the transaction
    commits; the row stays as a tombstone (``deleted_at`` set, ``file`` empty), so the version
    number is never given again and older page revisions that named it still open. Callers
    check first that no item uses it (kb.services.document_version_delete)."""
    name, storage = version.file.name, version.file.storage
    now = timezone.now()
    PortalDocument.objects.filter(pk=version.pk).update(deleted_at=now, file="")
    version.deleted_at, version.file.name = now, ""
    if name:
        transaction.on_commit(lambda: storage.delete(name))
