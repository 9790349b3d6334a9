"""Co-branding rows: editor templates (zones on a master), cached renders, per-download issues.

* ``CobrandTemplate``: the zones of one MASTER (a master image, or every version of a master
  document: its ``lineage``), with a version bumped on each change; each version is kept in
  ``CobrandTemplateVersion`` so a render names the layout it used.
* ``CobrandRender``: one rendered file per cache key (organisation, item, master + its version
  and content, template version, brand-kit version); pending → ready | failed.
* ``CobrandIssue``: one per download: the opaque token stamped into the file and, as snapshots,
  who/what/when it was made for (``cobranding.identify``). It outlives its render.
"""

from __future__ import annotations

import posixpath
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    """22 URL-safe characters (~131 bits): not guessable, short enough for a file's metadata."""
    return secrets.token_urlsafe(16)


def cobrand_upload_to(instance: CobrandRender, filename: str) -> str:
    """Renders live in the organisation's residency bucket, like its brand kit, under a random
    folder, so a render's object name cannot be guessed from the item or organisation."""
    from files.storage import join_name, organization_region_key

    organization = instance.organization
    return join_name(
        organization_region_key(organization),
        f"cobrand/{organization.key}/{secrets.token_urlsafe(18)}/{filename}",
    )


class MasterKind(models.TextChoices):
    IMAGE = "image", _("Image")
    DOCUMENT = "document", _("PDF document")


class CobrandTemplate(models.Model):
    """The zones editors marked on one master (image, or document lineage: every version)."""

    image = models.OneToOneField(
        "files.PortalImage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cobrand_template",
    )
    # A master document's lineage (files.PortalDocument.lineage: the first version's pk, a
    # number, not a key: it outlives that version). Every version of the file uses the template.
    lineage = models.PositiveIntegerField(null=True, blank=True, unique=True)
    layout = models.JSONField(default=dict)  # cobranding.engine.layout_to_json
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_("Adds a visible 'Confidential' watermark naming the partner."),
    )
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("co-brand template")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(image__isnull=False, lineage__isnull=True)
                    | models.Q(image__isnull=True, lineage__isnull=False)
                ),
                name="cobrand_template_one_master",
            )
        ]

    def __str__(self) -> str:
        master = f"image {self.image_id}" if self.image_id else f"document {self.lineage}"
        return f"template of {master} v{self.version}"

    @property
    def master_kind(self) -> str:
        return MasterKind.IMAGE if self.image_id else MasterKind.DOCUMENT


class CobrandTemplateVersion(models.Model):
    """One saved version of a template (the history: a render names the version it used)."""

    template = models.ForeignKey(CobrandTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    layout = models.JSONField(default=dict)
    confidential = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("co-brand template version")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "version"], name="cobrand_template_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.version}"


class CobrandRender(models.Model):
    """One render (cache entry): made once per key, stamped per download."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Preparing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(
        "permissions.PartnerOrganization", on_delete=models.CASCADE, related_name="cobrand_renders"
    )
    item = models.ForeignKey(
        "kb.PortalItemPage", on_delete=models.CASCADE, related_name="cobrand_renders"
    )
    master_kind = models.CharField(max_length=10, choices=MasterKind.choices)
    # files.PortalImage pk, or the PortalDocument pk of the VERSION rendered.
    master_id = models.PositiveIntegerField()
    master_version = models.PositiveIntegerField(default=1)  # images: always 1
    # The master's content: a replaced image file keeps the image's pk.
    master_sha256 = models.CharField(max_length=64)
    template_version = models.PositiveIntegerField(default=0)  # 0: the default layout
    brand_kit_version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to=cobrand_upload_to, max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("co-brand render")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "item",
                    "master_kind",
                    "master_id",
                    "master_sha256",
                    "template_version",
                    "brand_kit_version",
                ],
                name="cobrand_render_unique_key",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.item_id} for {self.organization_id} ({self.master_kind} {self.master_id} "
            f"v{self.master_version}, t{self.template_version}, k{self.brand_kit_version})"
        )

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY and bool(self.file)

    @property
    def master_document(self):
        """The document version a PDF render was made from (None for an image master, or when
        that version's row is gone)."""
        if self.master_kind != MasterKind.DOCUMENT:
            return None
        from files.models import PortalDocument

        return PortalDocument.objects.filter(pk=self.master_id).first()

    @property
    def filename(self) -> str:
        """The name a partner downloads: ``<item slug>-<organisation key>.<ext>``."""
        ext = posixpath.splitext(self.file.name)[1] if self.file else ""
        return f"{self.item.slug}-{self.organization.key}{ext}"


class CobrandIssue(models.Model):
    """One download of a co-branded file: the token stamped into it, and what it was made for.

    Snapshots, not only keys: an issue outlives its render (a cache entry, deleted when its
    sources change), the user (GDPR erasure: the FK goes, the e-mail snapshot stays as the
    record of whom the vendor handed the file to; see docs/cobranding.md) and the item."""

    token = models.CharField(max_length=43, unique=True, default=new_token)
    render = models.ForeignKey(
        CobrandRender, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    organization = models.ForeignKey(
        "permissions.PartnerOrganization",
        null=True,
        on_delete=models.SET_NULL,
        related_name="cobrand_issues",
    )
    organization_key = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_email = models.CharField(max_length=254, blank=True)
    item = models.ForeignKey(
        "kb.PortalItemPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cobrand_issues",
    )
    item_page_id = models.PositiveIntegerField()
    item_key = models.CharField(max_length=120, blank=True)  # the bundle key, if any
    item_title = models.CharField(max_length=255, blank=True)
    master_kind = models.CharField(max_length=10, choices=MasterKind.choices)
    master_version = models.PositiveIntegerField()
    template_version = models.PositiveIntegerField(default=0)
    brand_kit_version = models.PositiveIntegerField(default=0)
    rendered_at = models.DateTimeField()
    share_link_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("co-branded download")
        permissions = [("identify_cobrandissue", _("Can identify co-branded files"))]

    def __str__(self) -> str:
        return f"{self.token} ({self.organization_key})"
