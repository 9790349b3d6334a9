from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = _("Digest e-mail")

    def ready(self) -> None:
        # The digests (and the new-version e-mails) are sent by a periodic job inside every task
        # worker (the scheduling app; CLARIFICATIONS 13). digest_send_due(now=None) is
        # idempotent: two workers running it at once send each e-mail once. Until the scheduling
        # app is merged, cron runs `manage.py send_digests` (docs/deployment.md).
        import importlib.util

        if importlib.util.find_spec("scheduling") is None:
            return
        # Not guarded beyond this point: once the app exists, a changed API must fail loudly
        # at start-up rather than silently send no digests. The API of wt/sched's
        # scheduling.registry (INTEGRATOR: check it against the merged one).
        from datetime import timedelta

        from scheduling.registry import job_register  # type: ignore[import-not-found,unused-ignore]

        from .services import digest_send_due

        job_register("digest.send_due", timedelta(minutes=15), digest_send_due)
