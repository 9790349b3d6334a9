"""The scheduler: registration, claims (one run per due job, also across workers), failures."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from scheduling.models import ScheduledJob
from scheduling.registry import job_register, job_unregister, jobs_registered
from scheduling.services import scheduled_job_claim, scheduled_jobs_ensure, scheduler_tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def counting_job():
    """A registered job that counts its runs (only it runs in these tests)."""
    others = jobs_registered()
    for name in others:
        job_unregister(name)
    calls = []
    job = job_register("test.count", timedelta(minutes=1), lambda: calls.append(1))
    yield job, calls
    job_unregister("test.count")
    for name, other in others.items():
        job_register(name, other.interval, other.func, lease=other.lease)


def test_the_pages_and_search_jobs_are_registered_by_their_apps():
    job = jobs_registered()["pages.publish_scheduled"]
    assert job.interval == timedelta(minutes=1)
    assert jobs_registered()["search.outbox_drain"].interval == timedelta(minutes=5)


def test_a_new_job_runs_at_the_first_tick_then_once_per_interval(counting_job):
    job, calls = counting_job
    now = timezone.now()
    runs = scheduler_tick("w1", now)
    assert [r.name for r in runs] == ["test.count"] and runs[0].ok
    assert scheduler_tick("w1", now + timedelta(seconds=30)) == []
    assert scheduler_tick("w2", now + timedelta(seconds=59)) == []
    assert len(scheduler_tick("w2", now + timedelta(seconds=61))) == 1
    assert len(calls) == 2
    row = ScheduledJob.objects.get(name="test.count")
    assert row.run_count == 2 and row.running_by == "" and row.running_since is None
    assert row.next_run_at == now + timedelta(seconds=61) + job.interval


def test_a_claim_read_before_another_workers_claim_claims_nothing(counting_job):
    """SQLite has no row locks: the claim is a conditional update of the value read."""
    job, calls = counting_job
    now = timezone.now()
    scheduler_tick("w1", now - timedelta(minutes=5))  # creates the row, runs once
    ScheduledJob.objects.filter(name=job.name).update(next_run_at=now)
    stale = ScheduledJob.objects.get(name=job.name)
    assert scheduled_job_claim(job, "w1", now)
    # w2 read the row before w1's claim: its conditional update matches nothing.
    assert (
        ScheduledJob.objects.filter(
            pk=stale.pk, next_run_at=stale.next_run_at, running_since=stale.running_since
        ).update(running_by="w2")
        == 0
    )
    assert not scheduled_job_claim(job, "w2", now)  # and a fresh read finds it not due


def test_a_running_job_is_not_claimed_again_until_its_lease_ends(counting_job):
    job, calls = counting_job
    now = timezone.now()
    scheduler_tick("w1", now)
    ScheduledJob.objects.filter(name=job.name).update(
        next_run_at=now, running_by="w-dead", running_since=now
    )
    assert not scheduled_job_claim(job, "w2", now + job.interval)
    assert scheduled_job_claim(job, "w2", now + job.lease)


def test_a_dead_workers_run_is_run_again_once_its_lease_ends_not_at_the_next_interval(
    counting_job,
):
    """The dead worker's claim moved next_run_at a whole interval on: the retry must not wait
    for it (a daily job killed at 02:00 is run again after its lease, not the next night)."""
    calls = []
    job = job_register(
        "test.daily", timedelta(days=1), lambda: calls.append(1), lease=timedelta(minutes=2)
    )
    try:
        now = timezone.now()
        scheduled_jobs_ensure(now)
        assert scheduled_job_claim(job, "w-dead", now)  # claimed, then the worker is killed
        assert not scheduled_job_claim(job, "w2", now + timedelta(minutes=1))  # lease holds
        assert not [
            r for r in scheduler_tick("w2", now + timedelta(minutes=1)) if r.name == job.name
        ]
        runs = [r for r in scheduler_tick("w2", now + timedelta(minutes=2)) if r.name == job.name]
        assert len(runs) == 1 and runs[0].ok and calls == [1]
        row = ScheduledJob.objects.get(name=job.name)
        assert row.run_count == 1 and row.running_since is None
        assert row.next_run_at == now + timedelta(minutes=2) + job.interval
        # ...and once only: the next tick finds it neither due nor abandoned.
        assert not [
            r for r in scheduler_tick("w3", now + timedelta(minutes=3)) if r.name == job.name
        ]
    finally:
        job_unregister(job.name)


def test_a_job_has_the_default_lease_unless_it_names_its_own():
    from scheduling.registry import DEFAULT_LEASE

    assert jobs_registered()["pages.publish_scheduled"].lease == DEFAULT_LEASE
    job = job_register("test.lease", timedelta(hours=1), print, lease=timedelta(seconds=5))
    job_unregister(job.name)
    assert job.lease == timedelta(seconds=5)
    with pytest.raises(ValueError, match="lease"):
        job_register("test.lease", timedelta(hours=1), print, lease=timedelta(0))


def test_a_failing_job_is_recorded_and_the_others_still_run(counting_job):
    job, calls = counting_job

    def broken():
        raise RuntimeError("the engine is away")

    job_register("test.broken", timedelta(minutes=5), broken)
    try:
        runs = {r.name: r for r in scheduler_tick("w1", timezone.now())}
    finally:
        job_unregister("test.broken")
    assert runs["test.count"].ok and calls == [1]
    assert not runs["test.broken"].ok and "the engine is away" in runs["test.broken"].error
    row = ScheduledJob.objects.get(name="test.broken")
    assert row.failure_count == 1 and "RuntimeError" in row.last_error
    assert row.running_since is None and row.last_error_at is not None


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks (SKIP LOCKED): PostgreSQL"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_a_due_job_run_it_once(counting_job):
    """Eight workers (threads, each with its own connection) tick at the same moment."""
    job, calls = counting_job
    now = timezone.now()
    scheduler_tick("setup", now - timedelta(hours=1))
    ScheduledJob.objects.filter(name=job.name).update(next_run_at=now - timedelta(seconds=1))
    calls.clear()
    barrier = threading.Barrier(8)
    results = []

    def worker(n):
        try:
            barrier.wait()
            results.append(len(scheduler_tick(f"w{n}", now)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * 7 + [1]
    assert calls == [1]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(counting_job):
    job, calls = counting_job
    now = timezone.now()
    scheduler_tick("setup", now - timedelta(hours=1))
    ScheduledJob.objects.filter(name=job.name).update(next_run_at=now - timedelta(seconds=1))
    locked, release, outcome = threading.Event(), threading.Event(), []

    def other_worker():
        try:
            with transaction.atomic():
                ScheduledJob.objects.select_for_update().get(name=job.name)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert locked.wait(10)
        outcome.append(scheduled_job_claim(job, "w1", now))  # returns at once: skipped
    finally:
        release.set()
        holder.join()
    assert outcome == [False]
    assert scheduled_job_claim(job, "w1", now)  # the lock is gone: due, claimed


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_connection_was_terminated_is_still_recorded(counting_job):
    """The fault drill's finding (issue #16): a job that met a terminated connection (and
    handled it) left its row "running" until the lease ended, its run uncounted, because the
    record was written on the dead connection."""
    from ops.tests.faults import _terminate

    job, calls = counting_job

    def cut_off():
        connection.ensure_connection()
        _terminate(connection.connection.info.backend_pid)

    job_register("test.cut", timedelta(minutes=5), cut_off)
    try:
        runs = {r.name: r for r in scheduler_tick("w1", timezone.now())}
    finally:
        job_unregister("test.cut")
    assert runs["test.cut"].ok
    row = ScheduledJob.objects.get(name="test.cut")
    assert (row.run_count, row.running_by, row.running_since) == (1, "", None)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_task_loop_that_lost_its_connection_mid_claim_resumes_instead_of_ending_the_worker():
    """The fault drill's finding (issue #16): a connection terminated inside the task worker's
    claim transaction raised out of django-tasks-db's loop and ended the worker process. The
    loop is resumed on a fresh connection (after a pause that grows while the database stays
    away); any other error, or a lost connection while stopping, still ends it."""
    from ops.tests.faults import _terminate
    from scheduling.worker import RESUME_FIRST_SECONDS, run_resuming_after_lost_connections

    claimed: list[str] = []
    pauses: list[float] = []

    def task_loop() -> None:
        # Like db_worker: claim in a transaction; the first two times the connection is
        # terminated (by the server, for real) before the claim commits.
        with transaction.atomic():
            ScheduledJob.objects.update_or_create(
                name="test.claim", defaults={"next_run_at": timezone.now()}
            )
            if len(pauses) < 2:
                _terminate(connection.connection.info.backend_pid)
            ScheduledJob.objects.filter(name="test.claim").update(running_by="w1")
        claimed.append("w1")

    resumes: list[bool] = []

    def give_back() -> None:
        # The worker's own claims are given back after each pause (on a fresh connection).
        resumes.append(ScheduledJob.objects.filter(name="test.claim", running_by="w1").exists())

    run_resuming_after_lost_connections(
        task_loop, lambda: True, sleep=pauses.append, resumed=give_back
    )
    assert claimed == ["w1"]
    assert pauses == [RESUME_FIRST_SECONDS, RESUME_FIRST_SECONDS * 2]
    assert resumes == [False, False]  # called twice; the terminated claims were rolled back
    assert ScheduledJob.objects.get(name="test.claim").running_by == "w1"

    # Stopping (the worker was asked to exit): the error ends the loop.
    def lose_connection() -> None:
        connection.ensure_connection()
        _terminate(connection.connection.info.backend_pid)
        ScheduledJob.objects.count()

    with pytest.raises(Exception, match="terminat|closed"):
        run_resuming_after_lost_connections(lose_connection, lambda: False, sleep=pauses.append)
    connection.close()  # the terminated one: the test's teardown needs a fresh connection

    # Not a connection error: it ends the loop at once.
    def bug() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        run_resuming_after_lost_connections(bug, lambda: True, sleep=pauses.append)
