"""Running due periodic jobs: the claim (row lock + advance in one transaction) and the run.

Every task worker calls ``scheduler_tick`` every few seconds (``manage.py portal_worker``). A due
job is claimed by exactly one of them:

- on PostgreSQL the row is selected ``FOR UPDATE SKIP LOCKED``: a second worker skips a row
  another one is claiming instead of waiting for it;
- the claim moves ``next_run_at`` one interval on and marks the row running **in the same
  transaction**, and it is a conditional update (``WHERE next_run_at = <the value read>``), so a
  worker that read the row before another one committed its claim updates nothing and does not
  run the job. That condition also makes the claim safe on SQLite, which has no row locks.

The job then runs outside the claim's transaction (its own writes commit as it makes them); its
outcome is recorded on the row. A failing job is logged and recorded, never raised: the worker
keeps serving tasks and other jobs.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import ScheduledJob
from .registry import Job, jobs_registered

logger = logging.getLogger("portal.scheduling")


# What a lost database connection raises (a terminated backend, a restarted or failed-over
# server); the connection object is then dead until it is closed and opened again.
DATABASE_FAULTS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def connection_refresh() -> None:
    """Drop the default connection if it no longer works, so the next query opens a fresh one.

    A task worker reconnects only between ticks (``close_old_connections``): a job that met a
    lost connection would otherwise fail every later query of its run, and the record of the run
    with them. Inside a transaction (a test's) nothing is done: the connection is not ours.
    """
    if connection.in_atomic_block or connection.connection is None:
        return
    try:
        usable = connection.is_usable()
    except DATABASE_FAULTS:
        usable = False
    if not usable:
        try:
            connection.close()
        except DATABASE_FAULTS:
            pass  # closing a dead connection may fail too; Django has forgotten it either way


@dataclass(frozen=True)
class JobRun:
    """What one tick did with one job."""

    name: str
    ok: bool
    error: str = ""


def scheduled_jobs_ensure(now: datetime | None = None) -> None:
    """Create the table row of every registered job that has none (due at once)."""
    now = now or timezone.now()
    existing = set(ScheduledJob.objects.values_list("name", flat=True))
    for name in jobs_registered():
        if name in existing:
            continue
        try:
            with transaction.atomic():
                ScheduledJob.objects.create(name=name, next_run_at=now)
        except IntegrityError:
            pass  # another worker created it at the same moment


def scheduled_job_claim(job: Job, worker_id: str, now: datetime | None = None) -> bool:
    """Claim ``job`` for ``worker_id`` if it is due and nobody holds it, or if the run that
    holds it is older than the job's lease (its worker died); True if claimed.

    The row is locked (skipping a row another worker has locked), checked, and advanced one
    interval past ``now`` in one transaction; a conditional update makes a stale read claim
    nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            ScheduledJob.objects.select_for_update(skip_locked=True)
            .filter(name=job.name)
            .filter(
                # Due and not running, or abandoned: a run whose lease has ended died with its
                # worker and is run again at once, whenever the next regular run would be (the
                # dead worker's claim had already moved ``next_run_at`` one interval on).
                Q(next_run_at__lte=now, running_since__isnull=True)
                | Q(running_since__lte=now - job.lease)
            )
            .first()
        )
        if row is None:
            return False
        if row.running_since is not None:
            logger.warning(
                "scheduled job %s: the run started by %s at %s never finished; claimed again",
                job.name,
                row.running_by,
                row.running_since,
            )
        claimed = (
            ScheduledJob.objects.filter(
                pk=row.pk, next_run_at=row.next_run_at, running_since=row.running_since
            ).update(
                next_run_at=now + job.interval,
                running_by=worker_id[:100],
                running_since=now,
                last_run_at=now,
            )
            == 1
        )
    return claimed


def scheduled_job_run(job: Job, worker_id: str) -> JobRun:
    """Run a claimed ``job`` and record how it went (a failure is logged, never raised)."""
    error = ""
    try:
        job.func()
    except Exception:  # noqa: BLE001 -- a job's failure must never stop the worker
        error = traceback.format_exc()
        logger.exception("scheduled job %s failed", job.name)
    finished = timezone.now()
    done = ScheduledJob.objects.filter(name=job.name, running_by=worker_id[:100])
    if error:
        outcome = {
            "last_error": error[-10000:],
            "last_error_at": finished,
            "failure_count": F("failure_count") + 1,
        }
    else:
        outcome = {"last_error": ""}
    # The job may have met a lost connection (and handled it): the record must not fail on it,
    # or the row would stay "running" until its lease ends and the run would go uncounted.
    for attempt in (1, 2):
        connection_refresh()
        try:
            done.update(
                running_by="",
                running_since=None,
                last_finished_at=finished,
                run_count=F("run_count") + 1,
                **outcome,
            )
            break
        except DATABASE_FAULTS:
            if attempt == 2:
                raise
            logger.warning("scheduled job %s: recording its run met a lost connection", job.name)
    return JobRun(name=job.name, ok=not error, error=error)


def scheduler_tick(worker_id: str, now: datetime | None = None) -> list[JobRun]:
    """Run every registered job that is due and that this worker claims; return what ran."""
    scheduled_jobs_ensure(now)
    runs = []
    for job in jobs_registered().values():
        try:
            claimed = scheduled_job_claim(job, worker_id, now)
        except Exception:  # noqa: BLE001 -- a database hiccup skips this tick, not the worker
            logger.exception("scheduled job %s: could not claim", job.name)
            continue
        if claimed:
            runs.append(scheduled_job_run(job, worker_id))
    return runs
