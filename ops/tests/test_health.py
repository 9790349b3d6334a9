"""/healthz and /readyz (issue #16): alive without touching anything; readiness per dependency,
states only for anonymous callers, latencies and error classes for staff; 503 when a required
dependency is down; nothing secret, no address, no version in either."""

from __future__ import annotations

import json
import re

import pytest
from django.db import OperationalError, connection
from django.test import Client

from accounts.models import User
from ops import health
from permissions.tests.factories import MembershipFactory

from .faults import FailingStatements
from .test_cache import closed_port

SECRET = "s3cr3t-pa55"


@pytest.fixture(autouse=True)
def fresh_results(settings):
    settings.PORTAL_READY_CACHE_SECONDS = 0
    health.forget()
    yield
    health.forget()


def _no_secrets(body: str) -> None:
    assert SECRET not in body
    assert "127.0.0.1" not in body and "localhost" not in body
    assert not re.search(r"\d+\.\d+\.\d+", body)  # no version numbers
    assert "wagtail" not in body.lower() and "django" not in body.lower()


def test_healthz_touches_nothing_and_ignores_host_https_and_language(settings):
    """No database marker: a query would raise here."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_with_the_database_down():
    with connection.execute_wrapper(FailingStatements(times=100)) as _:
        assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_anonymous_sees_states_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    response = Client().get("/readyz", HTTP_HOST="10.0.0.7")  # a probe by the node's address
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "off", "search": "off", "storage": "ok"},
    }
    _no_secrets(response.content.decode())


@pytest.mark.django_db
def test_readyz_staff_see_latency_and_detail_partners_do_not(portal):
    staff = User.objects.create_user(email="ops@vendor.example", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    report = client.get("/readyz").json()
    assert report["status"] == "ready"
    database = report["checks"]["database"]
    assert database["state"] == "ok" and database["required"] is True
    assert isinstance(database["latency_ms"], float)
    assert report["checks"]["cache"]["required"] is False

    partner = Client()
    partner.force_login(MembershipFactory().user)
    assert partner.get("/readyz").json()["checks"]["database"] == "ok"  # states only


@pytest.mark.django_db
def test_readyz_answers_503_when_the_database_is_down(portal):
    staff = User.objects.create_user(email="ops@vendor.example", password="x", is_staff=True)
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    client.get("/readyz")  # the session and user read, before the database goes
    with connection.execute_wrapper(FailingStatements(r"^SELECT 1$", times=100)):
        anonymous = Client().get("/readyz")
    assert anonymous.status_code == 503
    assert anonymous.json()["status"] == "unready"
    assert anonymous.json()["checks"]["database"] == "down"
    health.forget()
    with connection.execute_wrapper(FailingStatements(r"^SELECT 1$", times=100)):
        detailed = client.get("/readyz")
    assert detailed.status_code == 503
    assert detailed.json()["checks"]["database"]["error"] == OperationalError.__name__


@pytest.mark.django_db
def test_readyz_reports_redis_and_engine_down_without_addresses_or_credentials(settings):
    """Redis, the engine and the object store down: reported, but not required by default."""
    port = closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "ops.cache.ResilientRedisCache",
            "LOCATION": f"redis://:{SECRET}@127.0.0.1:{port}/0",
        }
    }
    settings.PORTAL_SEARCH_URL = f"http://elastic:{SECRET}@127.0.0.1:{port}"
    settings.PORTAL_SEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": [settings.PORTAL_SEARCH_URL],
            "TIMEOUT": 1,
            "FALLBACK": "database",
        },
        "database": {"BACKEND": "search.backends.database"},
    }
    settings.PORTAL_READY_REQUIRED = ["database"]
    report = health.readiness(detail=True)
    assert report["checks"]["cache"]["state"] == "down"
    assert report["checks"]["search"]["state"] == "down"
    body = json.dumps(report)
    _no_secrets(body)
    # Required by the operator's choice: then it makes the node unready.
    settings.PORTAL_READY_REQUIRED = ["database", "cache"]
    health.forget()
    assert health.readiness(detail=False)["status"] == "unready"


@pytest.mark.django_db
def test_readiness_results_are_reused_for_the_configured_seconds(settings):
    settings.PORTAL_READY_CACHE_SECONDS = 60
    calls = []
    original = health.PROBES["storage"]
    health.PROBES["storage"] = lambda: calls.append(1) or "ok"
    try:
        health.readiness(detail=False)
        health.readiness(detail=False)
    finally:
        health.PROBES["storage"] = original
    assert calls == [1]
