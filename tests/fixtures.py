"""Shared fixtures: the portal's page structure and a partner world."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def portal(db):
    """Homes and library sections for every content locale (en, de, cs)."""
    from kb.services import site_structure_ensure

    return site_structure_ensure(hostname="testserver", port=80)


def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile("dev", max_examples=60, **common)
    settings.register_profile("ci", max_examples=1000, **common)
    # The PostgreSQL leg re-checks the SQL dialect; SQLite's leg carries the 1,000 examples
    # (PostgreSQL is ~3x slower per example on this 2-core machine).
    settings.register_profile("ci-pg", max_examples=250, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_hypothesis_profiles()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The seed_demo world, built once per test module and rolled back afterwards."""
    import io

    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def local_storage(settings):
    """Local media storage even when the S3_* variables are set (tests that look at files)."""
    settings.PORTAL_S3 = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
