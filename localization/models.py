"""Tables of the translation workflows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MarketerScope(models.Model):
    """The regions a regional marketer works for (optional; empty = every region).

    A marketer's *locales* are not stored here: they are the per-locale Wagtail groups
    ("Marketers (cs)") the user belongs to, because those groups are what Wagtail's own page
    permissions enforce. Regions only narrow what the marketer's task lists show; they are not an
    access boundary (the locale tree is).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketer_scope"
    )
    regions = models.ManyToManyField("permissions.Region", blank=True, related_name="+")

    class Meta:
        verbose_name = _("marketer scope")

    def __str__(self) -> str:
        return f"marketer scope of {self.user_id}"
