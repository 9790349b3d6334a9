"""Several task workers on one PostgreSQL database, as real processes (docs/scheduling.md,
"Several workers and nodes").

Two ``manage.py portal_worker`` processes (settings ``tests.worker_settings``: the test settings
on this test database, plus the test-only jobs of ``tests.worker_jobs``) tick against the same
due jobs: each due run happens once, each due digest is e-mailed once, and a worker SIGKILLed
mid-job leaves its run to the other worker after the job's lease, run once more, not twice.

PostgreSQL only (row locks, SKIP LOCKED, and the subprocesses must see this test's committed
rows: ``transaction=True``); CI's PostgreSQL suite runs them.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from scheduling.models import ScheduledJob
from scheduling.registry import jobs_registered

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="several worker processes: PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

TEST_JOBS = ("test.tick", "test.block")
TICK_SECONDS = 0.5
LEASE_SECONDS = 2.0


def _test_database_url() -> str:
    """DATABASE_URL, pointing at the test database pytest-django created (test_<name>)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class Workers:
    """``portal_worker`` subprocesses, each logging to its own file; all stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs = folder / "jobs"
        self.mail = folder / "mail"
        self.jobs.mkdir()
        self.mail.mkdir()
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": _test_database_url(),
            "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PORTAL_TEST_JOBS_DIR": str(self.jobs),
            "PORTAL_TEST_EMAIL_DIR": str(self.mail),
            "PORTAL_TEST_TICK_SECONDS": str(TICK_SECONDS),
            "PORTAL_TEST_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONUNBUFFERED": "1",
        }
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "portal_worker", "--schedule-interval", "0.05"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = self.folder / f"{name}.log"  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        return proc.log_path.read_text()  # type: ignore[attr-defined]

    def logs(self) -> str:
        return "\n".join(self.log(proc) for proc in self.procs)

    def wait_started(self, *procs: subprocess.Popen, timeout: float = 60) -> None:
        _wait(lambda: all("scheduler started" in self.log(p) for p in procs), timeout, self.logs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait(condition: Callable[[], bool], timeout: float, why: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; {why()}")
        time.sleep(0.05)


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    running = Workers(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _schedule(due: set[str]) -> None:
    """One row per job the workers register: the ``due`` ones due now, the others in an hour
    (so that the workers, once both are up, meet the same due rows at the same moment)."""
    now = timezone.now()
    for name in [*jobs_registered(), *TEST_JOBS]:
        ScheduledJob.objects.update_or_create(
            name=name,
            defaults={"next_run_at": now if name in due else now + timedelta(hours=1)},
        )


def _partners_due_a_digest(count: int):
    """``count`` partners (each in an organisation) with a daily digest whose 07:00 has passed
    since their last one, and two items published since, which every partner may see."""
    from accounts.models import DigestFrequency
    from digest.models import DigestSubscription
    from digest.services import digest_slot
    from kb.tests.factories import make_item
    from permissions.tests.factories import MembershipFactory, OrganizationFactory

    make_item(key="race-one", title="Race One")
    make_item(key="race-two", title="Race Two")
    slot = digest_slot(timezone.now(), ZoneInfo("UTC"), DigestFrequency.DAILY)
    users = []
    for n in range(count):
        organization = OrganizationFactory.create(key=f"race-org-{n}")
        user = MembershipFactory.create(organization=organization).user
        user.digest_frequency = DigestFrequency.DAILY
        user.time_zone = "UTC"
        user.save()
        DigestSubscription.objects.update_or_create(
            user=user, defaults={"last_sent_at": slot - timedelta(days=1, hours=1)}
        )
        users.append(user)
    return users


def _recipients(folder: Path) -> Counter:
    """Recipients of the messages the file backend wrote (one file per connection, messages
    separated by a line of 79 dashes)."""
    found: Counter = Counter()
    for path in folder.iterdir():
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                found[email.message_from_string(chunk.strip())["To"]] += 1
    return found


def test_two_workers_run_each_due_job_once_and_a_killed_workers_job_comes_back_once(
    committed_portal, workers
):
    """Two workers started together (one pair for both checks: each start costs seconds)."""
    users = _partners_due_a_digest(4)
    ScheduledJob.objects.all().delete()  # counts start at 0 (a reused database may hold rows)
    _schedule(due=set())
    first, second = workers.start("first"), workers.start("second")
    workers.wait_started(first, second)
    _each_due_run_happens_once(workers, users)
    _a_killed_workers_run_comes_back_once_after_the_lease(workers, first, second)


def _each_due_run_happens_once(workers: Workers, users) -> None:
    # Both are up and tick every 50 ms: every job is due for both at the same moment.
    _schedule(due={*jobs_registered(), "test.tick"})
    started = time.time()
    _wait(
        lambda: (
            not ScheduledJob.objects.filter(last_finished_at__isnull=True)
            .exclude(name="test.block")
            .exists()
        ),
        20,
        workers.logs,
    )
    time.sleep(max(0.0, started + 2.5 * TICK_SECONDS - time.time()))  # a few test.tick runs
    rows = {row.name: row for row in ScheduledJob.objects.all()}
    for name in jobs_registered():  # pages.publish_scheduled, search.outbox_drain, digest…
        assert (rows[name].run_count, rows[name].failure_count) == (1, 0), [
            (r.name, r.run_count, r.last_run_at, r.next_run_at, r.last_finished_at, r.last_error)
            for r in rows.values()
        ]
    # test.tick: one run per due time (its runs are at least an interval apart)...
    ticks = [line.split() for line in (workers.jobs / "tick.log").read_text().splitlines()]
    times = sorted(float(at) for _, at in ticks)
    assert len(ticks) >= 2 and rows["test.tick"].run_count in (len(ticks), len(ticks) - 1)
    assert all(b - a >= TICK_SECONDS - 0.01 for a, b in zip(times, times[1:], strict=False))
    # ...and each partner got one digest, though both workers had all of them due.
    assert _recipients(workers.mail) == Counter({user.email: 1 for user in users})
    assert "Traceback" not in workers.logs()


def _a_killed_workers_run_comes_back_once_after_the_lease(
    workers: Workers, first: subprocess.Popen, second: subprocess.Popen
) -> None:
    _schedule(due={"test.block"})  # the others: in an hour
    block_log = workers.jobs / "block.log"
    _wait(block_log.exists, 10, workers.logs)
    _, pid, started = block_log.read_text().split()
    killed = first if int(pid) == first.pid else second
    survivor = second if killed is first else first
    killed.send_signal(signal.SIGKILL)  # mid-job: the first run of test.block blocks
    killed.wait(5)
    row = ScheduledJob.objects.get(name="test.block")
    assert row.running_by.split(":")[1] == pid and row.run_count == 0  # left marked running

    _wait(lambda: "done" in block_log.read_text(), LEASE_SECONDS + 10, workers.logs)
    time.sleep(0.5)  # long enough for a second retry, were there one
    lines = [line.split() for line in block_log.read_text().splitlines()]
    assert [(what, int(who)) for what, who, _ in lines] == [
        ("start", killed.pid),
        ("start", survivor.pid),
        ("done", survivor.pid),
    ]
    # Not before the lease ended: the killed run was not taken for a dead one too early.
    assert float(lines[1][2]) - float(started) >= LEASE_SECONDS - 0.2
    row.refresh_from_db()
    assert (row.run_count, row.failure_count, row.running_by) == (1, 0, "")
    assert "never finished; claimed again" in workers.log(survivor)
