"""``manage.py db_worker``: django-tasks-db's worker, which first queues a search outbox drain.

Rows left in the outbox by a process that died between its commit and its enqueue are applied
when a worker starts, without waiting for the next content change (search/outbox.py). Every
option of django-tasks-db's command is unchanged. Without django-tasks-db in INSTALLED_APPS (the
embedded default runs tasks immediately) the command says so.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from search.outbox import enqueue_drain

if apps.is_installed("django_tasks_db"):
    from django_tasks_db.management.commands.db_worker import Command as _WorkerCommand
else:  # importing it would load a model of an app that is not installed

    class _WorkerCommand(BaseCommand):  # type: ignore[no-redef]  # the worker's stand-in
        help = "Run a database background worker"

        def handle(self, *args, **options):
            raise CommandError(
                "the database worker needs django_tasks_db in INSTALLED_APPS (the production "
                "settings); the embedded default runs background tasks immediately"
            )


class Command(_WorkerCommand):
    help = _WorkerCommand.help + " (queues a search outbox drain first)"

    def handle(self, *args, **options):
        if apps.is_installed("django_tasks_db"):
            enqueue_drain()
        return super().handle(*args, **options)
