"""The portal's document model (WAGTAILDOCS_DOCUMENT_MODEL).

Custom from the first migration so file versions and localized files can extend it without a swap.
"""

from __future__ import annotations

import logging

from django.db import models
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
    admin_form_fields = Document.admin_form_fields

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_portaldocument"
