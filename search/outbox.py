"""The search outbox: index updates recorded in the same transaction as the content change.

A change that affects the index (publish, move, audience, grant, deletion, tier or region
definition) writes an ``IndexOutbox`` row inside its own transaction (``outbox_add``), so the
row exists exactly when the change committed, whatever happens to the process afterwards.
After the commit one drain task is enqueued; ``outbox_drain`` applies every due row to the
indexes and deletes it only after the index write succeeded. A failed row is retried with a
growing delay. The drain also runs when a worker starts (search's ``db_worker``), when an
import starts, and from ``manage.py drain_search_outbox`` (cron), so a row left by a process that
died between its commit and its enqueue is applied by the next of these.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Min, Q
from django.utils import timezone

from .backends.database import engine_for

logger = logging.getLogger("portal.search")

# Rows applied per transaction: bounds the subtree query (one OR per root) and the lock time.
BATCH_SIZE = 200
# Tries of one index write within one drain (quick, for a blip); then the row waits for backoff.
ATTEMPTS = 3
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


class _Written:
    """What the current transaction has already written to the outbox (dedupe, in memory).

    Django replaces ``connection.run_on_commit`` by a new list on commit, on rollback and on a
    savepoint rollback, and only appends to it otherwise: while the list is the one seen when
    this state was made, every row recorded here is still part of the open transaction. After a
    savepoint rollback the state is dropped and rows are simply written again (a duplicate row
    costs nothing: the drain merges them).

    Every call registers the same callback; the first to run after the commit enqueues one
    drain and empties the state, the others find it empty and return.
    """

    def __init__(self, connection) -> None:
        self.hooks = connection.run_on_commit
        self.keys: set[tuple[str, int | None]] = set()

    def current(self, connection) -> bool:
        return connection.in_atomic_block and connection.run_on_commit is self.hooks

    def after_commit(self) -> None:
        if not self.keys:
            return  # a drain was enqueued after the last row this state wrote
        # Emptied first: tests that run captured on_commit callbacks keep one hook list, and a
        # later change of the same page must write its row again.
        self.keys.clear()
        enqueue_drain()


def outbox_add(*, kind: str, page_id: int | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record an index update inside the current transaction (or at once in autocommit).

    Repeats within one transaction write one row; one drain is enqueued when it commits.
    """
    from .models import IndexOutbox

    connection = connections[using]
    state: _Written | None = getattr(connection, "_portal_outbox", None)
    if state is None or not state.current(connection):
        state = _Written(connection)
        # A per-connection memo, kept on the connection object itself (read above).
        connection._portal_outbox = state  # type: ignore[attr-defined]
    key = (kind, page_id)
    if key not in state.keys:
        IndexOutbox.objects.using(using).create(kind=kind, page_id=page_id)
        state.keys.add(key)
    # Registered on every call (a list append): code that runs only the callbacks added after
    # some point of a transaction (tests capturing on_commit) still gets a drain. In autocommit
    # on_commit runs the callback at once: the row above is already committed.
    transaction.on_commit(state.after_commit, using=using)


def enqueue_drain(*, run_after=None) -> None:
    """Enqueue one drain task (never raises: the change it follows is committed already)."""
    from .tasks import drain_outbox_task

    try:
        if run_after is not None:
            if not drain_outbox_task.get_backend().supports_defer:
                return  # the next change, worker start or drain_search_outbox picks the row up
            drain_outbox_task.using(run_after=run_after).enqueue()
        else:
            drain_outbox_task.enqueue()
    except Exception:  # noqa: BLE001 - the rows stay in the outbox; a later drain applies them
        logger.exception("could not enqueue the search outbox drain")


@dataclass
class DrainReport:
    applied: int = 0  # rows applied and deleted
    failed: int = 0  # rows left for a later attempt

    def __iadd__(self, other: DrainReport) -> DrainReport:
        self.applied += other.applied
        self.failed += other.failed
        return self


def _due():
    from .models import IndexOutbox

    now = timezone.now()
    return IndexOutbox.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def outbox_drain(*, max_batches: int | None = None) -> DrainReport:
    """Apply every due outbox row to the search indexes; idempotent and safe to run anywhere.

    Drains run one at a time (PostgreSQL: an advisory lock; SQLite: the write lock every
    transaction takes at BEGIN IMMEDIATE), and each reads the rows before the content: a row it
    deletes was committed before the content it indexed was read, so an index never ends older
    than a row that is gone. Rows whose index write fails stay, with ``attempts`` and a
    ``next_attempt_at`` that backs off; a deferred drain is enqueued for them when the task
    backend can defer.
    """
    report = DrainReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        step = _drain_batch()
        report += step
        if step.applied + step.failed < BATCH_SIZE:
            break
    if report.failed:
        _schedule_retry()
    return report


def _drain_batch() -> DrainReport:
    from .models import IndexOutbox

    with transaction.atomic():
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            engine_for(connection).lock_drains(cursor)
        rows = list(_due().order_by("pk")[:BATCH_SIZE])
        if not rows:
            return DrainReport()
        if _apply_with_retries(rows):
            IndexOutbox.objects.filter(pk__in=[r.pk for r in rows]).delete()
            return DrainReport(applied=len(rows))
        if len(rows) == 1:
            _failed(rows)
            return DrainReport(failed=1)
        # One bad page must not hold back the others: each row alone, once.
        report = DrainReport()
        for row in rows:
            if _apply_once(row):
                row.delete()
                report.applied += 1
            else:
                _failed([row])
                report.failed += 1
        return report


def _apply(rows) -> None:
    from .models import IndexOutbox
    from .services import index_rebuild, index_subtrees, remove_item

    kinds = {row.kind for row in rows}
    if IndexOutbox.Kind.EVERYTHING in kinds:
        index_rebuild()
        return
    roots = sorted({r.page_id for r in rows if r.kind == IndexOutbox.Kind.SUBTREE})
    if roots:
        index_subtrees(roots)
    for item_id in sorted({r.page_id for r in rows if r.kind == IndexOutbox.Kind.REMOVE}):
        remove_item(item_id)


def _describe(rows) -> str:
    shown = ", ".join(str(r) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _apply_once(row) -> bool:
    try:
        with transaction.atomic():  # a failed write must not poison the drain's transaction
            _apply([row])
        return True
    except Exception as exc:  # noqa: BLE001 - indexing may fail; the row stays for a retry
        row.last_error = repr(exc)[:2000]
        logger.warning("search indexing failed (%s)", row, exc_info=True)
        return False


def _apply_with_retries(rows) -> bool:
    what = _describe(rows)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _apply(rows)
            return True
        except Exception as exc:  # noqa: BLE001 - indexing may fail; the content change stays
            error = repr(exc)[:2000]
            if attempt == ATTEMPTS:
                logger.exception(
                    "search indexing failed (%s), gave up after %s tries; kept in the outbox",
                    what,
                    attempt,
                )
                for row in rows:
                    row.last_error = error
                return False
            logger.warning("search indexing failed (%s), retrying", what, exc_info=True)
            time.sleep(0.2 * attempt)
    return False


def _failed(rows) -> None:
    now = timezone.now()
    for row in rows:
        row.attempts += 1
        delay = min(BACKOFF_FIRST * 2 ** (row.attempts - 1), BACKOFF_MAX)
        row.next_attempt_at = now + delay
        row.save(update_fields=["attempts", "next_attempt_at", "last_error"])


def _schedule_retry() -> None:
    from .models import IndexOutbox

    earliest = IndexOutbox.objects.aggregate(t=Min("next_attempt_at"))["t"]
    if earliest is not None:
        enqueue_drain(run_after=earliest)


def outbox_pending() -> int:
    """Rows not applied yet (due or waiting for a retry)."""
    from .models import IndexOutbox

    return IndexOutbox.objects.count()
