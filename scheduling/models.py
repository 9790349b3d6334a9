"""One row per registered periodic job: when it is due, who runs it, how its last run went."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    """The schedule of one periodic job (``scheduling.registry``).

    Workers claim a due row under a row lock (``select_for_update(skip_locked=True)``) and move
    ``next_run_at`` on in the same transaction, so a due run is taken by one worker only
    (docs/scheduling.md).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run at"), db_index=True)
    last_run_at = models.DateTimeField(_("last run started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last run finished at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    # Set while a worker runs the job; a claim older than the job's lease counts as abandoned
    # (the worker died) and the job may be claimed again.
    running_by = models.CharField(_("running on worker"), max_length=100, blank=True)
    running_since = models.DateTimeField(_("running since"), null=True, blank=True)
    run_count = models.PositiveIntegerField(_("runs"), default=0)
    failure_count = models.PositiveIntegerField(_("failed runs"), default=0)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
