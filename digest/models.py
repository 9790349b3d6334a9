"""The digest's own state per user: when the last digest run covered them.

What the user wants (off / daily / weekly) is their profile preference
(``accounts.User.digest_frequency``, set on the profile page or by the signed switch-off link);
this table only remembers what was sent, so two task workers never send the same digest twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DigestSubscription(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="digest_subscription",
    )
    # The end of the window the last digest run covered (whether or not it found anything to
    # send): the next digest lists what was published after it. Also the guard against sending
    # twice: a run claims a user by moving it, compare-and-set (digest.services.digest_send).
    last_sent_at = models.DateTimeField(_("last digest run"), null=True, blank=True)
    # When an e-mail was last actually sent (a run with nothing to tell sends none).
    last_emailed_at = models.DateTimeField(_("last digest e-mail"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest subscription")
        verbose_name_plural = _("digest subscriptions")

    def __str__(self) -> str:
        return f"digest of user {self.user_id}"
