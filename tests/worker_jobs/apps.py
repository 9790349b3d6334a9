"""The test jobs, registered like any app's (``AppConfig.ready``), with a short lease.

- ``test.tick`` (every ``PORTAL_TEST_TICK_SECONDS``): appends ``<pid> <time>`` to ``tick.log``.
- ``test.block`` (hourly, lease ``PORTAL_TEST_LEASE_SECONDS``): appends ``start <pid> <time>``
  to ``block.log``; the FIRST run ever blocks (it stands for a long job during which its worker
  is killed), a later one appends ``done <pid> <time>``.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from django.apps import AppConfig


def _append(path: Path, line: str) -> None:
    # One O_APPEND write per line: lines from two processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _folder() -> Path:
    return Path(os.environ["PORTAL_TEST_JOBS_DIR"])


def tick() -> None:
    _append(_folder() / "tick.log", f"{os.getpid()} {time.time():.6f}")


def block() -> None:
    log = _folder() / "block.log"
    first = not log.exists()
    _append(log, f"start {os.getpid()} {time.time():.6f}")
    if first:
        time.sleep(120)  # killed (SIGKILL) by the test long before this ends
    _append(log, f"done {os.getpid()} {time.time():.6f}")


class WorkerJobsConfig(AppConfig):
    name = "tests.worker_jobs"
    label = "portal_test_worker_jobs"

    def ready(self) -> None:
        from scheduling.registry import job_register

        job_register(
            "test.tick", timedelta(seconds=float(os.environ["PORTAL_TEST_TICK_SECONDS"])), tick
        )
        job_register(
            "test.block",
            timedelta(hours=1),
            block,
            lease=timedelta(seconds=float(os.environ["PORTAL_TEST_LEASE_SECONDS"])),
        )
