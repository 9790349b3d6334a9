"""kb 0015: each live product sheet's current version becomes the first entry of its history."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kb.models import ProductSheetVersion
from kb.tests.factories import make_item

migration = importlib.import_module("kb.migrations.0017_product_sheet_versions")

BEFORE = [("kb", "0016_partners_download_history_outlives_item")]
AFTER = [("kb", "0017_product_sheet_versions")]


def test_the_current_versions_note_is_its_section_of_the_old_changelog():
    changelog = (
        '<h3 data-block-key="a">v3</h3><ul><li>New 5G module</li></ul>'
        "<h3>v2</h3><p>Older</p><h2>v1</h2><p>First</p>"
    )
    assert migration._section(changelog, "v3") == "<ul><li>New 5G module</li></ul>"
    assert migration._section(changelog, "v1") == "<p>First</p>"
    assert migration._section(changelog, "v9") == ""
    assert migration._section("", "v1") == ""


def _migrate(targets):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


# Schema changes inside the test's transaction: PostgreSQL only (see test_migrations.py).
@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs transactional DDL")
def test_live_sheets_get_their_current_version(portal):
    changelog = "<h3>v3</h3><ul><li>New 5G module</li></ul><h3>v2</h3><p>Older</p>"
    sheet = make_item(key="mig", extra={"version_label": "v3", "changelog": changelog})
    draft = make_item(key="mig-draft", extra={"version_label": "v1"})
    draft.unpublish()  # not live: no version to record
    ProductSheetVersion.objects.all().delete()  # (today's publish already recorded them)
    _migrate(BEFORE)
    _migrate(AFTER)
    entry = ProductSheetVersion.objects.get(page_id=sheet.pk)
    assert (entry.version_label, entry.note) == ("v3", "<ul><li>New 5G module</li></ul>")
    assert (entry.revision_id, entry.published_at) == (
        sheet.live_revision_id,
        sheet.last_published_at,
    )
    assert not ProductSheetVersion.objects.filter(page_id=draft.pk).exists()
