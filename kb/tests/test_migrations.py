"""kb 0009: today's language-tagged attachments become localized files of the translation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.models import Locale

from files.tests.factories import make_pdf_bytes
from kb.models import ItemAttachment, PortalItemPage
from kb.services import FileSpec
from kb.tests.factories import make_item

# Migrating back and forth inside the test's transaction: PostgreSQL's schema changes are
# transactional, so the test's rollback undoes them. SQLite's schema editor cannot run inside a
# transaction (and a transactional test's flush would empty the reused test database): there
# the test is skipped; .ci/run's PostgreSQL leg runs it.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs transactional DDL (PostgreSQL)"
    ),
]

BEFORE = [("kb", "0008_page_last_published_index"), ("files", "0001_initial")]


def _latest() -> list[tuple[str, str]]:
    """Every app's latest migration: the test then reads with today's models (naming kb's and
    files' latest alone would leave later migrations of other apps that depend on them, and
    today's models' new columns, unapplied)."""
    return sorted(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _migrate(targets):
    with connection.cursor() as cursor:  # the test's own rows: checked before any ALTER TABLE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_language_tagged_attachments_move_to_the_translation(portal):
    files = [
        FileSpec(name="lf-en.pdf", content=make_pdf_bytes("en"), title="Sheet (EN)"),
        FileSpec(name="lf-cs.pdf", content=make_pdf_bytes("cs"), title="Sheet (CS)"),
        FileSpec(name="lf-de.pdf", content=make_pdf_bytes("de"), title="Sheet (DE)"),
    ]
    source = make_item(key="tagged", files=files)
    czech = source.copy_for_translation(Locale.objects.get(language_code="cs"))
    czech.save_revision().publish()
    en, cs, de = source.attachments.order_by("sort_order")
    old = _migrate(BEFORE)
    Attachment = old.get_model("kb", "ItemAttachment")
    Attachment.objects.filter(pk=cs.pk).update(language="cs")
    Attachment.objects.filter(pk=de.pk).update(language="de")  # no German translation
    _migrate(_latest())

    moved = ItemAttachment.objects.select_related("document", "master__document").get(pk=cs.pk)
    assert moved.page_id == czech.pk and moved.master_id == en.pk
    assert moved.master_sha256 == moved.master.document.sha256 and len(moved.master_sha256) == 64
    assert ItemAttachment.objects.get(pk=de.pk).page_id == source.pk  # stays: nowhere to go
    # Revisions follow, so neither page's next publish undoes the move.
    source = PortalItemPage.objects.get(pk=source.pk)
    czech = PortalItemPage.objects.get(pk=czech.pk)
    assert cs.pk not in [c["pk"] for c in source.get_latest_revision().content["attachments"]]
    assert cs.pk in [c["pk"] for c in czech.get_latest_revision().content["attachments"]]
    czech.get_latest_revision().publish()
    source.get_latest_revision().publish()
    assert ItemAttachment.objects.get(pk=cs.pk).page_id == czech.pk


def test_translator_overrides_of_asset_files_become_localized_files(portal):
    """kb 0010: a translation's own master image (a wagtail-localize override) is localized."""
    from kb.models import MarketingAssetPage
    from kb.tests.test_localized_assets import asset, image

    source = asset("mig-asset")
    czech = source.copy_for_translation(Locale.objects.get(language_code="cs"))
    czech.master_image = image("mig-cs", (3, 3, 3))
    czech.save_revision().publish()
    _migrate([("kb", "0009_localized_attachments"), ("files", "0002_portaldocument_sha256")])
    _migrate(_latest())

    czech = MarketingAssetPage.objects.get(pk=czech.pk)
    source = MarketingAssetPage.objects.get(pk=source.pk)
    assert czech.master_image_source_sha256 == source.master_image.sha256 != ""
    assert czech.master_document_source_sha256 == ""  # the same file as the source's: a copy
    latest = czech.get_latest_revision().content
    assert latest["master_image_source_sha256"] == source.master_image.sha256
