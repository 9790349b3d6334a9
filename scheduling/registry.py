"""Periodic jobs, registered by the apps that own them (in their ``AppConfig.ready``).

    from scheduling.registry import job_register
    job_register("pages.publish_scheduled", timedelta(minutes=1), publish_scheduled)

The registry lives in memory (each process registers the same jobs at start-up); the schedule
itself, shared by every worker, is the ``ScheduledJob`` table (``scheduling.services``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Job:
    """A periodic job: run ``func()`` about every ``interval``.

    ``lease`` is how long a claim holds: a run still marked running after it is taken to have died
    with its worker, and the job may be claimed again (default: ten intervals, at least 15 min).
    """

    name: str
    interval: timedelta
    func: Callable[[], object]
    lease: timedelta

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 100:
            raise ValueError(f"a job name has 1 to 100 characters: {self.name!r}")
        if self.interval <= timedelta(0):
            raise ValueError(f"job {self.name!r}: the interval must be positive")


_jobs: dict[str, Job] = {}


def job_register(
    name: str,
    interval: timedelta,
    func: Callable[[], object],
    *,
    lease: timedelta | None = None,
) -> Job:
    """Register (or re-register, e.g. after an autoreload) the periodic job ``name``."""
    job = Job(
        name=name,
        interval=interval,
        func=func,
        lease=lease if lease is not None else max(interval * 10, timedelta(minutes=15)),
    )
    _jobs[name] = job
    return job


def job_unregister(name: str) -> None:
    """Forget ``name`` (tests). Its table row stays: an unregistered job is simply not run."""
    _jobs.pop(name, None)


def jobs_registered() -> dict[str, Job]:
    """The registered jobs by name (a copy)."""
    return dict(_jobs)
