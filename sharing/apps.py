"""Share links: a partner's expiring link to a co-branded asset for its customers.

A partner creates a link on a co-brandable item (``services.share_link_create``); the customer
opens ``/s/<token>/`` (no login, no portal around it) and downloads the co-branded file, stamped
per download with the link's id. Whether a link still works is ``permissions.policies.sharing``'s
answer on every request (docs/sharing.md).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Share links")
