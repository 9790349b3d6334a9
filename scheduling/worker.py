"""The scheduler loop every task worker runs beside its tasks (``manage.py portal_worker``).

``SchedulerLoop`` ticks ``scheduler_tick`` every ``interval`` seconds until stopped; stopping
lets the job in progress finish. In a django-tasks database worker it runs in a thread of its
own (``worker_with_scheduler``), so a long task never delays a due job and a long job never
delays tasks; with a non-database task backend (the embedded default runs tasks immediately) it
is the whole worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError, close_old_connections, connection

from .services import scheduler_tick

logger = logging.getLogger("portal.scheduling")


def worker_name(worker_id: str) -> str:
    """A readable, unique claim owner: host, process and the task worker's id."""
    return f"{socket.gethostname()}:{os.getpid()}:{worker_id}"[:100]


class SchedulerLoop:
    """Tick the scheduler every ``interval`` seconds until ``stop()``."""

    def __init__(self, worker_id: str, interval: float) -> None:
        self.worker_id = worker_id
        self.interval = interval
        self._stop = threading.Event()

    def tick(self) -> None:
        """One tick; anything it raises is logged (the loop and the worker go on)."""
        close_old_connections()
        try:
            for run in scheduler_tick(self.worker_id):
                logger.debug("scheduled job %s %s", run.name, "done" if run.ok else "FAILED")
        except Exception:  # noqa: BLE001 -- e.g. the database is away: retry next tick
            logger.exception("scheduler tick failed")
        finally:
            close_old_connections()

    def run(self) -> None:
        """Tick until stopped (the first tick at once)."""
        logger.info("scheduler started worker=%s every %ss", self.worker_id, self.interval)
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.interval)
        finally:
            connection.close()  # this thread's own connection
            logger.info("scheduler stopped worker=%s", self.worker_id)

    def stop(self) -> None:
        """Stop after the tick in progress (a running job finishes first)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


# The pause before the task loop starts again after a lost connection: doubled while the
# database stays away, up to the cap, so a long outage costs a log line per pause, not a spin.
RESUME_FIRST_SECONDS = 0.5
RESUME_MAX_SECONDS = 30.0


def run_resuming_after_lost_connections(
    run: Callable[[], None],
    running: Callable[[], bool],
    sleep: Callable[[float], None] = time.sleep,
    resumed: Callable[[], object] | None = None,
) -> None:
    """Call ``run`` (a task loop) again whenever it stops on a lost database connection, while
    ``running()`` says the worker has not been asked to stop.

    django-tasks-db's loop claims a task in a transaction of its own; a connection terminated
    inside it (a database restart, a failover, ``pg_terminate_backend``) raised out of the loop
    and ended the worker process (found by the fault drill, issue #16). Whether the claim was
    committed is unknown then: ``resumed`` (called after each pause, before the loop starts
    again) lets the worker give back a claim of its own that did commit; if it fails too, the
    next try does it. Any other error still ends the worker (a bug must not loop for ever).
    """
    pause = RESUME_FIRST_SECONDS
    while True:
        started = time.monotonic()
        try:
            run()
            return
        except (OperationalError, InterfaceError):
            if not running():
                raise
            if time.monotonic() - started > RESUME_MAX_SECONDS:
                pause = RESUME_FIRST_SECONDS  # it had been running well: a new outage
            logger.exception("task loop lost its database connection; resuming in %.1fs", pause)
            connection.close()
            sleep(pause)
            pause = min(pause * 2, RESUME_MAX_SECONDS)
            if resumed is not None:
                try:
                    resumed()
                except (OperationalError, InterfaceError):
                    logger.warning("database still away; the task loop tries again")
                    connection.close()


def worker_with_scheduler(schedule_interval: float, **worker_options: Any) -> Any:
    """A django-tasks-db ``Worker`` whose ``run`` also runs a ``SchedulerLoop`` in a thread.

    SIGTERM/SIGINT keep db_worker's meaning (the current task finishes, then the worker exits)
    and also stop the scheduler, whose running job finishes before the process exits; a second
    signal exits at once. ``--batch`` ticks once, then drains the queue.
    """
    # Imported here: django_tasks_db is an installed app only where the database backend is
    # configured (production), and its models cannot be imported elsewhere.
    from django_tasks_db.management.commands.db_worker import Worker

    class PortalWorker(Worker):
        def requeue_own_claims(self) -> int:
            """Queue again the tasks this worker claimed and is not running: called when its
            loop starts again after a lost connection, when it runs no task, so a claim whose
            ``COMMIT`` did go through is not left RUNNING until ``ops.housekeeping``'s lease."""
            from django_tasks.base import TaskResultStatus
            from django_tasks_db.models import DBTaskResult

            running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
            mine = [
                task.pk
                for task in running.only("pk", "worker_ids")
                if task.worker_ids and task.worker_ids[-1] == self.worker_id
            ]
            if not mine:
                return 0
            count = running.filter(pk__in=mine).update(
                status=TaskResultStatus.READY, started_at=None
            )
            logger.warning("worker %s: %d claimed task(s) queued again", self.worker_id, count)
            return count

        def resume(self) -> None:
            run_resuming_after_lost_connections(
                super().run, lambda: self.running, resumed=self.requeue_own_claims
            )

        def run(self) -> None:
            loop = SchedulerLoop(worker_name(self.worker_id), schedule_interval)
            if self.batch:
                loop.tick()
                self.resume()
                return
            # A daemon thread, joined on the way out: a graceful stop waits for its job, a
            # second signal (sys.exit from db_worker's handler) does not wait for it.
            thread = threading.Thread(target=loop.run, name="portal-scheduler", daemon=True)
            thread.start()
            try:
                self.resume()
            finally:
                loop.stop()
                thread.join()

    return PortalWorker(**worker_options)
