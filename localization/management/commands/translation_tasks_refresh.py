"""Recompute every translation task and record today's coverage snapshot of every locale.

The tasks follow changes by themselves (localization.signal_handlers); this rebuilds them after
writes that send no signals (a queryset update, a restored database) and gives a day with no
change its snapshot too, so run it daily (cron or the task scheduler) for an even chart.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from wagtail.models import Locale

from localization.services import coverage_snapshot_record, translation_tasks_refresh


class Command(BaseCommand):
    help = "Recompute translation tasks and record today's coverage snapshot per locale."

    def handle(self, *args, **options) -> None:
        changed = translation_tasks_refresh()
        default = Locale.get_default()
        for locale in Locale.objects.exclude(pk=default.pk).order_by("language_code"):
            snapshot = coverage_snapshot_record(locale=locale)
            self.stdout.write(
                f"{locale.language_code}: {snapshot.done}/{snapshot.total} done, "
                f"{snapshot.out_of_date} out of date, {snapshot.missing} missing, "
                f"{snapshot.in_progress} in progress, {snapshot.in_review} in review"
            )
        self.stdout.write(f"{changed} tasks changed")
