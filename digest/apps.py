from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = _("Digest e-mail")

    def ready(self) -> None:
        _register_scheduled_jobs()


def _register_scheduled_jobs() -> None:
    """The digests (and the new-version e-mails) are sent by a periodic job inside every task
    worker (docs/scheduling.md, CLARIFICATIONS 13). ``digest_send_due()`` decides who is due
    (each user's 07:00) and is idempotent: each user is claimed with a compare-and-set, so two
    workers running it at once send each e-mail once. ``manage.py send_digests`` does the same
    by hand."""
    from datetime import timedelta

    from scheduling.registry import job_register

    from .services import digest_send_due

    job_register("digest.send_due", timedelta(minutes=15), digest_send_due)
