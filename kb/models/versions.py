"""A product sheet's version history: one row per published version (the sheet's changelog).

Written only by ``kb.services.product_sheet_version_record`` (called on every publish of a
product sheet, whatever publishes it, and by importers/demo); read by the sheet's template and
the admin's "Versions" view. Not a ParentalKey child on purpose: the history is not part of a
page revision (a revert must not rewrite it) and wagtail-localize must not copy or sync it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductSheetVersion(models.Model):
    """One published version of a product sheet: its label and what changed in it."""

    page = models.ForeignKey(
        "kb.ProductSheetPage", on_delete=models.CASCADE, related_name="versions"
    )
    # The published revision (compare it with another in Wagtail's revision compare view).
    # Null for history from before versioned publishing or copied from a translation's source.
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version_label = models.CharField(_("version"), max_length=40)
    # Rich text (HTML as the editor stored it), in the page's own language.
    note = models.TextField(_("what changed"), blank=True)
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("product sheet version")
        verbose_name_plural = _("product sheet versions")
        ordering = ["-published_at", "-pk"]
        indexes = [
            # The sheet's history, newest first: the latest N and each page of the full list.
            models.Index(fields=["page", "-published_at", "-id"], name="kb_sheetver_page_newest"),
        ]
        constraints = [
            # A label names one version of one sheet: never published twice.
            models.UniqueConstraint(
                fields=["page", "version_label"], name="kb_sheetver_unique_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.page_id} {self.version_label}"
