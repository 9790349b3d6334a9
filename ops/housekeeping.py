"""Housekeeping: the rows that only grow unless someone deletes them (docs/deployment.md).

``housekeeping`` is the scheduled job ``ops.housekeeping`` (hourly, claimed by one task worker
like every scheduled job, docs/scheduling.md). Each step deletes only rows that nobody can use
any more, in bounded batches so a large backlog never holds a long lock:

- **expired sessions** (the database sessions behind ``cached_db``: 100,000 users leave a row
  per login, which Django deletes only when ``clearsessions`` runs);
- **abandoned tasks** of the database task queue: a task still RUNNING
  ``PORTAL_TASK_LEASE_MINUTES`` (60) after it started died with its worker (django-tasks-db
  never takes it back by itself) and is queued again. Every task the portal queues may run
  twice without harm (index drains re-apply current state under an advisory lock, a co-brand
  render is locked per render, digests are claimed per user), so a retry is safe;
- **finished task results** of the database task queue (django-tasks-db), successful ones after
  ``PORTAL_TASK_RESULTS_DAYS`` (14), failed ones after twice that (they are read when a task
  failed). Only where that queue is installed (production); the embedded default runs tasks
  immediately and keeps no results.

Running it twice, or on two workers at once, deletes nothing twice and breaks nothing: every step
is a delete of rows past a cut-off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Model, QuerySet
from django.utils import timezone

logger = logging.getLogger("portal.ops")

BATCH = 5000


@dataclass(frozen=True)
class HousekeepingRun:
    """What one run deleted."""

    sessions: int
    task_results: int
    tasks_requeued: int = 0


def _delete_in_batches(queryset: QuerySet[Model]) -> int:
    """Delete the rows of ``queryset`` ``BATCH`` at a time (short transactions, short locks)."""
    deleted = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return deleted
        deleted += queryset.model._default_manager.filter(pk__in=pks).delete()[0]


def sessions_expired_delete() -> int:
    """Delete the database sessions past their expiry; return how many."""
    return _delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))


def task_results_finished_delete() -> int:
    """Delete old finished results of the database task queue (none where it is not installed)."""
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django.db.models import Q
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    days = int(getattr(settings, "PORTAL_TASK_RESULTS_DAYS", 14))
    now = timezone.now()
    old = DBTaskResult.objects.finished().filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - timedelta(days=days))
        | Q(status=TaskResultStatus.FAILED, finished_at__lt=now - timedelta(days=days * 2))
    )
    return _delete_in_batches(old)


def tasks_abandoned_requeue() -> int:
    """Queue again the tasks RUNNING for longer than ``PORTAL_TASK_LEASE_MINUTES`` (their
    worker was killed); return how many. None where the database task queue is not installed."""
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    minutes = int(getattr(settings, "PORTAL_TASK_LEASE_MINUTES", 60))
    stale = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING,
        started_at__lt=timezone.now() - timedelta(minutes=minutes),
    )
    # One conditional UPDATE: a task that finished meanwhile is no longer RUNNING and is left.
    count = stale.update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("housekeeping: %d abandoned task(s) queued again", count)
    return count


def housekeeping() -> HousekeepingRun:
    """Run every housekeeping step; log what was done."""
    run = HousekeepingRun(
        sessions=sessions_expired_delete(),
        task_results=task_results_finished_delete(),
        tasks_requeued=tasks_abandoned_requeue(),
    )
    if run.sessions or run.task_results:
        logger.info(
            "housekeeping: %d expired sessions, %d old task results deleted",
            run.sessions,
            run.task_results,
        )
    return run
