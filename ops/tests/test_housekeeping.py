"""The hourly housekeeping job: expired sessions go, live ones stay, in batches."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from ops import housekeeping as hk
from scheduling.registry import jobs_registered

pytestmark = pytest.mark.django_db


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["user"] = "someone"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    assert store.session_key is not None
    return store.session_key


def test_the_job_is_registered_hourly():
    job = jobs_registered()["ops.housekeeping"]
    assert job.interval == timedelta(hours=1)
    assert job.func is hk.housekeeping


def test_expired_sessions_are_deleted_in_batches_and_live_ones_kept(monkeypatch):
    monkeypatch.setattr(hk, "BATCH", 2)  # five expired rows: three batches
    expired = {_session(timedelta(minutes=-m)) for m in range(1, 6)}
    live = {_session(timedelta(days=1)) for _ in range(2)}

    run = hk.housekeeping()

    assert run.sessions == 5
    assert set(Session.objects.values_list("session_key", flat=True)) == live
    assert not expired & live
    # A live session still loads; a second run finds nothing more to delete.
    assert SessionStore(session_key=next(iter(live))).load()["user"] == "someone"
    assert hk.housekeeping().sessions == 0


def test_without_the_database_task_queue_there_are_no_task_results_to_delete():
    # The embedded default runs tasks immediately (no django_tasks_db, no result rows).
    assert hk.task_results_finished_delete() == 0
    assert hk.tasks_abandoned_requeue() == 0
