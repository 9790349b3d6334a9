from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # The database-fault middleware learns of a database error that an inner middleware's
        # exception handler turned into a 500 response through this signal (ops/middleware.py).
        from django.core.signals import got_request_exception

        from .middleware import note_request_exception

        got_request_exception.connect(note_request_exception, dispatch_uid="ops.db_fault")
        _register_scheduled_jobs()


def _register_scheduled_jobs() -> None:
    """Housekeeping, run hourly by one of the task workers (docs/scheduling.md)."""
    from datetime import timedelta

    from scheduling.registry import job_register

    from .housekeeping import housekeeping

    job_register("ops.housekeeping", timedelta(hours=1), housekeeping)
