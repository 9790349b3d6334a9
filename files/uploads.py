"""Storing a checked upload as a row: validation, the bucket, the import journal.

Every document and image made in code (kb's ``document_create``/``image_create``, file versions
in ``files.versions``) comes through ``file_row_create``, so a refused file leaves no row and no
stored object whichever path it came by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.db import models

from .storage import content_sha256, join_name
from .validation import validate_upload

if TYPE_CHECKING:
    from .journal import ImportJournal

_Row = TypeVar("_Row", bound=models.Model)


@dataclass
class StoredFiles:
    """Storage paths written during an operation, so a failed transaction can remove them.

    With a ``journal`` (files.journal.ImportJournal) every name is made durable *before* the
    storage is touched, and names that a row stops referencing are recorded too, so a process
    killed at any point leaves nothing the journal's recovery cannot settle.
    """

    paths: list[str] = field(default_factory=list)
    journal: ImportJournal | None = None

    def intend(self, name: str) -> None:
        """Record ``name`` before it is written, or before a row stops referencing it."""
        if self.journal is not None:
            self.journal.record(name)

    def discard(self) -> None:
        from django.core.files.storage import default_storage

        for path in self.paths:
            default_storage.delete(path)
        self.paths.clear()


def file_row_create(
    model: type[_Row],
    kind: str,
    *,
    name: str,
    content: bytes,
    title: str,
    region_key: str | None,
    stored: StoredFiles | None = None,
    fields: dict[str, Any] | None = None,
) -> _Row:
    """Check ``content`` as an upload of ``kind``, store it in ``region_key``'s bucket and save a
    new ``model`` row (a document or an image) pointing at it, with ``fields`` set.

    Raises:
        UploadRejected: the file was refused (files.validation); nothing was stored.
    """
    name = validate_upload(name=name, content=content, kind=kind)
    row: Any = model(title=title or name, **(fields or {}))
    file_field = row.file.field
    target = join_name(region_key, file_field.generate_filename(row, name))
    row.file.name = _save_file(
        file_field.storage, target, ContentFile(content, name=name), file_field.max_length, stored
    )
    if stored is not None:
        stored.paths.append(row.file.name)
    row.file_size = len(content)
    row.file_hash = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    row.sha256 = content_sha256(content)
    if kind == "image":
        # Width and height from the stored bytes, as Wagtail's own upload sets them.
        from django.core.files.images import get_image_dimensions

        row.width, row.height = get_image_dimensions(ContentFile(content))
    try:
        row.save()
    except BaseException:
        # No row points at the object: remove it now rather than leave an orphan.
        row.file.storage.delete(row.file.name)
        raise
    created: _Row = row
    return created


def _save_file(
    storage: Storage,
    target: str,
    content: ContentFile[bytes],
    max_length: int | None,
    stored: StoredFiles | None,
) -> str:
    """``storage.save`` with the chosen name journaled between choosing it and writing it."""
    if stored is None or stored.journal is None:
        return storage.save(target, content, max_length=max_length)
    # Storage.save() would pick the name and write in one call; the journal must come between.
    validate_file_name(target, allow_relative_path=True)
    name = storage.get_available_name(target, max_length=max_length)
    validate_file_name(name, allow_relative_path=True)
    stored.intend(name)
    saved: str = storage._save(name, content)  # type: ignore[attr-defined]
    if saved != name:  # the local store found the name taken meanwhile and chose another
        stored.intend(saved)
    validate_file_name(saved, allow_relative_path=True)
    return saved
