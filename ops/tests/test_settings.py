"""The production settings wire the degrade machinery (read in a subprocess: they refuse to load
without their environment, and the test settings must stay untouched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "cache": settings.CACHES["default"],
    "session": settings.SESSION_ENGINE,
    "atomic": settings.DATABASES["default"]["ATOMIC_REQUESTS"],
    "middleware": settings.MIDDLEWARE[:3],
    "apps": settings.INSTALLED_APPS[0],
    "s3": {k: settings.PORTAL_S3[k] for k in ("connect_timeout", "read_timeout", "max_attempts")},
    "ready": settings.PORTAL_READY_REQUIRED,
}))
"""


def _production(**extra: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal_site.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
        "PORTAL_BASE_URL": "https://portal.example.com",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.example.com",
        "DEFAULT_FROM_EMAIL": "portal@example.com",
        "S3_BUCKET": "portal",
        **extra,
    }
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_production_degrades_instead_of_failing():
    found = _production()
    assert found["cache"]["BACKEND"] == "ops.cache.ResilientRedisCache"
    assert found["cache"]["OPTIONS"] == {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "RETRY_SECONDS": 5.0,
        "LOG_SECONDS": 60.0,
    }
    assert found["session"] == "django.contrib.sessions.backends.cached_db"
    assert found["atomic"] is True
    assert found["middleware"][:2] == [
        "ops.middleware.HealthCheckMiddleware",
        "ops.middleware.DatabaseFaultMiddleware",
    ]
    assert found["apps"] == "ops"
    # A hanging store: 4 attempts x 10 s + backoff stays below gunicorn's 120 s.
    assert found["s3"] == {"connect_timeout": 3.0, "read_timeout": 10.0, "max_attempts": 4}
    assert found["ready"] == ["database"]


def test_the_operator_tunes_them_from_the_environment():
    found = _production(
        PORTAL_CACHE_RETRY_SECONDS="10",
        REDIS_TIMEOUT="0.2",
        S3_READ_TIMEOUT="5",
        PORTAL_READY_REQUIRED="database, storage",
    )
    assert found["cache"]["OPTIONS"]["RETRY_SECONDS"] == 10.0
    assert found["cache"]["OPTIONS"]["socket_timeout"] == 0.2
    assert found["s3"]["read_timeout"] == 5.0
    assert found["ready"] == ["database", "storage"]
