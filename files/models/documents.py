"""The portal's document model (WAGTAILDOCS_DOCUMENT_MODEL).

Custom from the first migration so file versions and localized files can extend it without a swap.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument, Document

from files.storage import content_sha256

logger = logging.getLogger("portal.files")


class FileSha256Mixin(models.Model):
    """``sha256`` of the stored bytes, for documents and images alike.

    Set whenever the file is set (Wagtail's admin forms through ``_set_file_hash``,
    kb.services.document_create directly). Localized files record the master's value they
    translate: a different value later means the master changed (docs/localized-files.md).
    """

    sha256: models.CharField[str, str] = models.CharField(
        max_length=64, blank=True, editable=False, db_index=True
    )

    class Meta:
        abstract = True

    def _set_file_hash(self) -> None:
        # Wagtail calls this whenever an upload sets or replaces the file (documents through
        # _set_document_file_metadata, images through _set_image_file_metadata): the SHA-256
        # follows the file in the same place.
        super()._set_file_hash()  # type: ignore[misc]
        with self.open_file() as f:  # type: ignore[attr-defined]
            self.sha256 = content_sha256(f)

    def save(self, *args: object, **kwargs: object) -> None:
        # A row made in code (the demo, tests, imports of images) gets its hash on first save,
        # so a changed master is seen by the task queries, which compare stored values.
        if not self.sha256 and self.file:  # type: ignore[attr-defined]
            try:
                with self.open_file() as f:  # type: ignore[attr-defined]
                    self.sha256 = content_sha256(f)
            except OSError:
                # Bytes not readable now (not stored yet, or storage down): saving the row must
                # not fail for it; get_sha256() computes it on first use.
                logger.warning("sha256 of %s deferred: file not readable", self.file)  # type: ignore[attr-defined]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_sha256(self) -> str:
        """The file's SHA-256, computed (and saved) now for a row stored before the field."""
        if not self.sha256:
            with self.open_file() as f:  # type: ignore[attr-defined]
                self.sha256 = content_sha256(f)
            type(self)._default_manager.filter(pk=self.pk).update(sha256=self.sha256)
        sha: str = self.sha256
        return sha


class PortalDocument(FileSha256Mixin, AbstractDocument):  # noqa: DJ008 (AbstractDocument's)
    """A document, and one VERSION of a file: the versions of one file are the documents of one
    ``lineage`` (docs/file-versions.md).

    Each upload of a new version is a new row (its own stored object, size and SHA-256), so the
    history is never rewritten and everything that reads a document (serving, residency,
    localized files, co-branding) reads a version without knowing about versions. Which version
    partners get is not decided here: an item's attachment (part of the page's revisions) points
    at the version its published revision approved.
    """

    admin_form_fields = Document.admin_form_fields

    # The pk of the lineage's first version: the stable key of every download URL of this file
    # (``/portal/items/<item>/files/<lineage>/<name>``). Set on first save; never changes, even
    # when that first version is deleted (so it is a number, not a foreign key).
    lineage: models.IntegerField[int | None, int | None] = models.IntegerField(
        null=True, blank=True, editable=False, db_index=True
    )
    # The file name in the stable download URL: the first version's name, kept by every later
    # version, so the link an item shows never changes (the response names the current file).
    stable_name: models.CharField[str, str] = models.CharField(
        max_length=255, blank=True, editable=False
    )
    version_number: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(
        _("version"), default=1, editable=False
    )
    version_label: models.CharField[str, str] = models.CharField(
        _("version label"), max_length=40, blank=True, help_text=_("e.g. v3 or 2026.2")
    )
    version_notes: models.TextField[str, str] = models.TextField(_("what changed"), blank=True)
    # A rollback is a new version holding the bytes of an older one: this names that one.
    rollback_of: models.ForeignKey[PortalDocument | None, PortalDocument | None] = (
        models.ForeignKey(
            "self",
            null=True,
            blank=True,
            on_delete=models.SET_NULL,
            related_name="+",
            editable=False,
            verbose_name=_("restores"),
        )
    )
    # The default go-live of the page revision that adopts this version (the revision's own
    # go-live is what schedules it), and the moment after which partners are no longer served
    # this version: the file is withdrawn, even before any scheduler has run.
    go_live_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        _("go live at"), null=True, blank=True
    )
    expire_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        _("expire at"), null=True, blank=True
    )
    # An admin deleted this version (files.versions.document_version_delete): its stored
    # object is gone and ``file`` is empty, but the row stays as a tombstone, so its number is
    # never given to other bytes and the page revisions that once named it still open.
    deleted_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        _("deleted at"), null=True, blank=True, editable=False
    )

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_portaldocument"
        constraints = [
            models.UniqueConstraint(
                fields=["lineage", "version_number"], name="files_document_version_unique"
            )
        ]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.stable_name and self.file:
            self.stable_name = self.filename[:255]
        super().save(*args, **kwargs)
        if self.lineage is None:
            # A first version is its own lineage: its pk is the file's stable key.
            self.lineage = self.pk
            type(self)._default_manager.filter(pk=self.pk).update(lineage=self.pk)

    @property
    def version_name(self) -> str:
        """ "v3", or "v3 (2026.2)" with a label."""
        name = f"v{self.version_number}"
        return f"{name} ({self.version_label})" if self.version_label else name

    def is_expired(self, now: datetime | None = None) -> bool:
        """Has this version's expiry passed (partners are no longer served it)?"""
        if self.expire_at is None:
            return False
        return bool(self.expire_at <= (now or timezone.now()))
