from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = _("Digest e-mail")

    def ready(self) -> None:
        # The digests are sent by a periodic job inside every task worker (the scheduling app;
        # CLARIFICATIONS 13). digest_send_due(now=None) is idempotent: two workers running it
        # at once send each digest once. Until the scheduling app is merged, cron runs
        # `manage.py send_digests` (docs/deployment.md).
        try:
            from scheduling import register  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            return
        # INTEGRATOR: switch on (check register()'s signature):
        # from datetime import timedelta; from .services import digest_send_due
        # register("digest.send_due", timedelta(minutes=15), digest_send_due)
