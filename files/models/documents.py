"""The portal's document model (WAGTAILDOCS_DOCUMENT_MODEL).

Custom from the first migration so file versions and localized files can extend it without a swap.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument, Document

from files.storage import content_sha256


class PortalDocument(AbstractDocument):
    admin_form_fields = Document.admin_form_fields

    # SHA-256 of the stored bytes, set whenever the file is set (Wagtail's admin forms through
    # ``_set_file_hash``, kb.services.document_create directly). Localized files record the
    # master's value they translate: a different value later means the master changed.
    sha256: models.CharField[str, str] = models.CharField(
        max_length=64, blank=True, editable=False, db_index=True
    )

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_portaldocument"

    def _set_file_hash(self) -> None:
        # Wagtail calls this (via _set_document_file_metadata) whenever an upload sets or
        # replaces the file: the SHA-256 follows the file in the same place.
        super()._set_file_hash()
        with self.open_file() as f:
            self.sha256 = content_sha256(f)

    def get_sha256(self) -> str:
        """The file's SHA-256, computed (and saved) now for a row stored before the field."""
        if not self.sha256:
            with self.open_file() as f:
                self.sha256 = content_sha256(f)
            type(self).objects.filter(pk=self.pk).update(sha256=self.sha256)
        sha: str = self.sha256
        return sha
