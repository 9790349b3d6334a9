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
    with its worker (killed, host lost), and the job is claimed and run again at once by another
    worker. It must be longer than the job's longest run: a run that outlives its lease may be
    started a second time beside it. Default ``DEFAULT_LEASE`` (15 minutes).
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
        if self.lease <= timedelta(0):
            raise ValueError(f"job {self.name!r}: the lease must be positive")


#: The lease of a job registered without one: longer than any of today's jobs takes (seconds
#: each), short enough that a killed worker's publishing or digest run is back within minutes.
DEFAULT_LEASE = timedelta(minutes=15)

# Filled by each process's AppConfig.ready calls, identically on every node: this is code, not
# state (the schedule and who runs what are in the ScheduledJob table).
_jobs: dict[str, Job] = {}


def job_register(
    name: str,
    interval: timedelta,
    func: Callable[[], object],
    *,
    lease: timedelta | None = None,
) -> Job:
    """Register (or re-register, e.g. after an autoreload) the periodic job ``name``.

    ``lease``: how long a run may take before it counts as dead (see ``Job``).
    """
    job = Job(
        name=name,
        interval=interval,
        func=func,
        lease=lease if lease is not None else DEFAULT_LEASE,
    )
    _jobs[name] = job
    return job


def job_unregister(name: str) -> None:
    """Forget ``name`` (tests). Its table row stays: an unregistered job is simply not run."""
    _jobs.pop(name, None)


def jobs_registered() -> dict[str, Job]:
    """The registered jobs by name (a copy)."""
    return dict(_jobs)
