"""One stored co-branded render of one item for one organisation."""

from __future__ import annotations

import posixpath

from django.db import models
from django.utils.translation import gettext_lazy as _


def cobrand_upload_to(instance: CobrandRender, filename: str) -> str:
    """Renders live in the organisation's residency bucket, like its brand kit."""
    from files.storage import join_name, organization_region_key

    organization = instance.organization
    return join_name(
        organization_region_key(organization), f"cobrand/{organization.key}/{filename}"
    )


class CobrandRender(models.Model):
    organization = models.ForeignKey(
        "permissions.PartnerOrganization", on_delete=models.CASCADE, related_name="cobrand_renders"
    )
    item = models.ForeignKey(
        "kb.PortalItemPage", on_delete=models.CASCADE, related_name="cobrand_renders"
    )
    # What the render was made from (cobranding.services.source_fingerprint): the item's
    # live revision, the master image's file and the brand kit. A change makes a new render.
    fingerprint = models.CharField(max_length=100)
    file = models.FileField(upload_to=cobrand_upload_to, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("co-brand render")
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_cobrandrender"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "item", "fingerprint"], name="cobrand_render_unique_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} for {self.organization_id} ({self.fingerprint})"

    @property
    def filename(self) -> str:
        """The name a partner downloads: ``<item slug>-<organisation key>.<ext>``."""
        ext = posixpath.splitext(self.file.name)[1]
        return f"{self.item.slug}-{self.organization.key}{ext}"
