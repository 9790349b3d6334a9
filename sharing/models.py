"""One share link: a partner's expiring link to one co-branded item for its customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ShareLink(models.Model):
    """A link ``/s/<token>/`` a partner hands to a customer.

    The token itself is never stored: only its SHA-256 (``token_hash``, what a request is looked
    up by) and its first characters (``token_prefix``, for the masked form in the partner's
    list). The partner sees the full link once, right after creating it; a lost link is replaced
    by a new one (docs/sharing.md). The password, if any, is stored as Django's password hash.

    Whether the link still works is never stored either: ``share_link_policy.is_open`` decides on
    every request (revoked, expired, the organisation or the creator's entitlement gone).
    """

    organization = models.ForeignKey(
        "permissions.PartnerOrganization", on_delete=models.CASCADE, related_name="share_links"
    )
    item = models.ForeignKey(
        "kb.PortalItemPage", on_delete=models.CASCADE, related_name="share_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="share_links",
    )
    # Who created it, kept when the account goes (the link then stops working: no creator).
    created_by_email = models.CharField(max_length=254, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8)
    label = models.CharField(
        _("customer"), max_length=200, blank=True, help_text=_("Whom the link is for.")
    )
    password = models.CharField(max_length=128, blank=True)  # make_password(); "" = none
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    view_count = models.PositiveIntegerField(default=0)
    download_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("share link")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"share link {self.pk} of {self.item_id} ({self.organization_id})"

    @property
    def has_password(self) -> bool:
        return bool(self.password)
