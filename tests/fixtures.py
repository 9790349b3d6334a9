"""Shared fixtures: the portal's page structure and a partner world."""

from __future__ import annotations

import pytest


@pytest.fixture
def portal(db):
    """Homes and library sections for every content locale (en, de, cs)."""
    from kb.services import site_structure_ensure

    return site_structure_ensure(hostname="testserver", port=80)
