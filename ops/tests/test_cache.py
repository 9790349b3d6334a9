"""Redis down (issue #16): logins, pages, downloads, search and lockouts go on, with the
production cache settings (ops.cache.ResilientRedisCache, cached_db sessions) pointing at a real
closed port; failures are logged once per interval; entries whose writes were skipped are
deleted when Redis is back (a real redis-server of the test's own, stopped and restarted)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from accounts.models import User
from files.tests.factories import make_pdf_bytes
from kb.selectors import item_files
from kb.services import FileSpec
from kb.tests.factories import make_item
from ops.cache import ResilientRedisCache
from permissions.models import Membership
from permissions.tests.factories import MembershipFactory
from search.backends import get_search_backend
from search.documents import iter_documents

PASSWORD = "pass-word-123"


def closed_port() -> int:
    """A port nothing listens on: bound by the OS, then released (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_cache(port: int, **options) -> ResilientRedisCache:
    return ResilientRedisCache(
        f"redis://127.0.0.1:{port}/0", {"OPTIONS": options, "KEY_PREFIX": "ops-test"}
    )


@pytest.fixture
def redis_down(settings):
    """The production cache and session settings, Redis at a closed port."""
    settings.CACHES = {
        "default": {
            "BACKEND": "ops.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    return cache


@pytest.mark.django_db
def test_with_redis_down_a_partner_logs_in_browses_downloads_searches_and_logs_out(
    portal, redis_down, caplog
):
    membership = MembershipFactory(role=Membership.Role.MEMBER)
    user = membership.user
    item = make_item(
        key="redis-down", files=[FileSpec(name="sheet.pdf", content=make_pdf_bytes("sheet"))]
    )
    get_search_backend().rebuild(iter_documents())
    client = Client()
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        response = client.post("/login/", {"username": user.email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)  # read back from the database

        assert client.get("/").status_code == 200
        assert client.get(item.url).status_code == 200
        download = client.get(item_files(user=user, item=item)["files"][0].url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content).startswith(b"%PDF")
        search = client.get("/search/", {"q": "redis"})
        assert search.status_code == 200
        assert f'href="{item.url}"' in search.content.decode()  # found (the database index)

        assert client.post("/logout/").status_code == 302
        assert client.get(item.url).status_code in (302, 404)  # logged out: no item page
    # The cache was tried and failed; that was reported once, not once per call.
    reports = [r for r in caplog.records if r.name == "portal.cache"]
    assert len(reports) == 1
    assert "cache unavailable (ConnectionError)" in reports[0].getMessage()


@pytest.mark.django_db
def test_with_redis_down_the_lockout_still_counts_in_the_database(portal, redis_down):
    User.objects.create_user(email="anna@acme.example", password=PASSWORD)
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        client.post("/login/", {"username": "anna@acme.example", "password": "wrong"})
    right = client.post("/login/", {"username": "anna@acme.example", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_every_call_answers_as_a_miss_and_the_failure_is_logged_once_per_interval(caplog):
    cache = redis_cache(closed_port(), RETRY_SECONDS=5, LOG_SECONDS=60)
    now = [1000.0]
    cache.clock = lambda: now[0]
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        assert cache.get("a", "default") == "default"
        cache.set("a", 1)
        assert cache.add("lock", 1) is False  # never "you hold the lock"
        assert cache.get_many(["a", "b"]) == {}
        assert "a" not in cache
        assert cache.get_or_set("c", 3) == 3
        with pytest.raises(ValueError):
            cache.incr("generation")
        assert cache.delete("a") is False
        assert len(caplog.records) == 1  # one report, then skipped calls
        assert not cache.available
        now[0] += 6  # past RETRY_SECONDS: tried (and failing) again, still within LOG_SECONDS
        assert cache.get("a") is None
        assert len(caplog.records) == 1
        now[0] += 60  # past LOG_SECONDS: the next failure reports what happened meanwhile
        assert cache.get("a") is None
    assert len(caplog.records) == 2
    # 7 calls skipped (get_or_set is 3), 2 tried and failed, counted with the reporting one.
    assert "11 cache call(s) answered as misses" in caplog.records[1].getMessage()
    # What the skipped writes would have changed is to be deleted on recovery.
    assert set(cache._pending) == {
        cache.make_key("a"),
        cache.make_key("generation"),
    }


def _start_redis(port: int, folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - a fixed command of the test's own
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # started when it says so (no sleeping)
        if "Ready to accept connections" in line:
            return process
    raise RuntimeError("redis-server did not start")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (apt redis)")
def test_writes_skipped_during_an_outage_are_deleted_when_redis_is_back(tmp_path, caplog):
    port = closed_port()
    server = _start_redis(port, tmp_path)
    try:
        cache = redis_cache(port, RETRY_SECONDS=0)
        cache.set("session", "logged in")
        cache.set("other", "kept")
        assert cache.get("session") == "logged in"
    finally:
        _stop(server)
    # Redis away: the logout's delete and a change are skipped (and remembered).
    assert cache.delete("session") is False
    cache.set("other", "changed")
    assert cache.get("session") is None
    server = _start_redis(port, tmp_path)  # back, with what it held before the outage
    try:
        raw = cache._cache.get_client()
        assert raw.get(cache.make_key("session")) is not None  # the stale entry is there
        with caplog.at_level(logging.WARNING, logger="portal.cache"):
            assert cache.get("session") is None  # ... and deleted before the first read
        assert raw.get(cache.make_key("session")) is None
        assert cache.get("other") is None  # the skipped change: no stale "kept" either
        assert "2 stale key(s) deleted" in caplog.records[-1].getMessage()
        cache.set("session", "new")
        assert cache.get("session") == "new"
        cache.ping()
    finally:
        _stop(server)


def test_one_redis_client_per_pool_shared_by_threads(tmp_path):
    """Django makes a redis-py client per call (a quarter of a millisecond each, issue #16):
    ours keeps one per connection pool, and threads sharing it each get their own answers."""
    from concurrent.futures import ThreadPoolExecutor

    port = closed_port()
    server = _start_redis(port, tmp_path)
    try:
        cache = redis_cache(port)
        client = cache._cache.get_client()
        assert cache._cache.get_client() is client
        assert cache._cache.get_client(write=True) is client

        def round_trip(n: int) -> int:
            cache.set(f"thread-{n}", n)
            return cache.get(f"thread-{n}")

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(round_trip, range(200))) == list(range(200))
    finally:
        _stop(server)
