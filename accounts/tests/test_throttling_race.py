"""Parallel login guesses against one account: the per-account login gate (accounts/throttling.py).

Real threads with their own database connections race over HTTP (Django's test client).
"""

from __future__ import annotations

import threading

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from accounts.throttling import login_gate

from .test_throttling import _client, _login


def _in_own_connection(function):
    """Run ``function`` in a thread with its own database connection (committed at once)."""
    from django.db import connection

    result = []

    def run():
        try:
            result.append(function())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0] if result else None


def test_parallel_guesses_get_no_more_than_the_limit(django_db_setup, django_db_blocker):
    """8 clients guessing at once: exactly N-1 wrong-password answers, then only lockouts.

    Without the per-account gate every parallel request passed axes' check before any failure
    was counted (measured on gunicorn: 15 failures counted for a limit of 10).

    The guesses run in threads with their own connections, so they commit and really race. Not a
    database test at all (no django_db mark, hence a module of its own): pytest-django would wrap
    it in a transaction, which on SQLite (BEGIN IMMEDIATE) holds the write lock the threads wait
    for; a transactional test's flush would empty the tables the migrations filled for every
    later test. The test's thread never touches the database; the rows the threads wrote are
    removed at the end. The account does not exist: failures count the same.
    """
    from django.db import connection

    email, address = "race@unknown.example", "198.51.100.7"
    limit = settings.PORTAL_LOGIN_ACCOUNT_LIMIT
    statuses: list[int] = []
    guesses = iter(range(limit * 3))
    lock = threading.Lock()

    def guess():
        client = _client(address)
        try:
            while True:
                with lock:
                    n = next(guesses, None)
                if n is None:
                    return
                status = _login(client, email, f"guess-{n}").status_code
                with lock:
                    statuses.append(status)
        finally:
            connection.close()

    def counted() -> int:
        rows = AccessAttempt.objects.filter(username=email)
        return sum(rows.values_list("failures_since_start", flat=True))

    with django_db_blocker.unblock():
        _race(guess, counted, address, limit, statuses)


def _race(guess, counted, address: str, limit: int, statuses: list[int]) -> None:
    try:
        threads = [threading.Thread(target=guess) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * (limit - 1) + [429] * (limit * 2 + 1)
        assert _in_own_connection(counted) == limit
    finally:
        _in_own_connection(lambda: AccessAttempt.objects.filter(ip_address=address).delete())


@pytest.mark.django_db
def test_case_variants_of_a_login_wait_at_the_same_gate():
    """The gate serialises an account's attempts whatever case the e-mail was typed in.

    (Also the module's database test: pytest-django sets the test database up only for the
    databases its collected tests ask for, and the race above asks for none.)
    """
    from accounts.models import LoginGate

    LoginGate.objects.all().delete()
    with login_gate("Race@Unknown.EXAMPLE"):
        pass
    with login_gate(" race@unknown.example "):
        pass
    assert LoginGate.objects.count() == 1
