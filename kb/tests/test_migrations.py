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
AFTER = [("kb", "0009_localized_attachments"), ("files", "0002_portaldocument_sha256")]


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
    _migrate(AFTER)

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
