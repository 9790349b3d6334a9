"""``manage.py portal_worker``: the django-tasks database worker plus the periodic jobs.

Run one or more beside the web server (docs/deployment.md, docs/scheduling.md). With the
database task backend it is ``db_worker`` (same options) and, in a thread, the scheduler that
runs due periodic jobs under row locks; with any other backend (the embedded default runs
tasks immediately) it runs the scheduler only. SIGTERM finishes the current task and job, then
exits.
"""

from __future__ import annotations

import logging
import signal
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.utils import get_random_id

from scheduling.worker import SchedulerLoop, worker_name, worker_with_scheduler

logger = logging.getLogger("portal.scheduling")


def _database_backend(alias: str) -> bool:
    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends[alias], DatabaseBackend)


class Command(BaseCommand):
    help = "Run the task worker (django-tasks database backend) and the scheduled jobs."

    def add_arguments(self, parser: ArgumentParser) -> None:
        if apps.is_installed("django_tasks_db"):
            from django_tasks_db.management.commands.db_worker import Command as DbWorker

            DbWorker.add_arguments(self, parser)  # type: ignore[arg-type]
        else:
            parser.add_argument(
                "--backend", default=DEFAULT_TASK_BACKEND_ALIAS, dest="backend_name"
            )
            parser.add_argument("--worker-id", default=get_random_id())
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=10.0,
            help="Seconds between two looks at the due scheduled jobs (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_interval: float = options.pop("schedule_interval")
        self._configure_logging(options["verbosity"])
        if _database_backend(options["backend_name"]):
            self._run_database_worker(schedule_interval, options)
        else:
            self._run_scheduler_only(schedule_interval, options["worker_id"])

    def _configure_logging(self, verbosity: int) -> None:
        if apps.is_installed("django_tasks_db"):
            from django_tasks_db.management.commands.db_worker import Command as DbWorker

            DbWorker.configure_logging(self, verbosity)  # type: ignore[arg-type]
        portal = logging.getLogger("portal.scheduling")
        if not portal.hasHandlers():
            portal.addHandler(logging.StreamHandler(self.stdout))
        portal.setLevel(logging.WARNING if verbosity == 0 else logging.INFO)

    def _run_database_worker(self, schedule_interval: float, options: dict[str, Any]) -> None:
        # db_worker's own handle(), with the worker that also runs the scheduler. Autoreload is
        # not offered: a reload would cut a running job short.
        if options.get("reload"):
            logger.warning("portal_worker does not reload on code changes; restart it instead")
        worker = worker_with_scheduler(
            schedule_interval,
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        worker.configure_signals()
        worker.run()

    def _run_scheduler_only(self, schedule_interval: float, worker_id: str) -> None:
        loop = SchedulerLoop(worker_name(worker_id), schedule_interval)

        def shutdown(signum: int, frame: FrameType | None) -> None:
            if loop.stopping:  # a second signal: do not wait for the job
                sys.exit(1)
            logger.warning("Received %s - stopping after the current job", signal.strsignal(signum))
            loop.stop()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, shutdown)
        logger.info("no database task backend: running the scheduled jobs only")
        loop.run()
