from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalSearchConfig(AppConfig):
    name = "search"
    label = "portal_search"
    verbose_name = _("Portal search")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
        _register_scheduled_jobs()


def _register_scheduled_jobs() -> None:
    """Every task worker queues a search outbox drain every five minutes (docs/scheduling.md):
    rows left by a process that died between its commit and its enqueue are applied without a
    cron job or a content change (search/outbox.py)."""
    from datetime import timedelta

    from scheduling.registry import job_register

    from .outbox import enqueue_drain

    job_register("search.outbox_drain", timedelta(minutes=5), enqueue_drain)
