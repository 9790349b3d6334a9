"""Localized files: attachments of a translation that point to their master attachment."""

from __future__ import annotations

import pytest
from wagtail.models import Locale
from wagtail_localize.models import TranslationSource

from files.tests.factories import make_pdf_bytes
from kb.models import ItemAttachment, PortalItemPage
from kb.selectors import item_files
from kb.services import (
    FileSpec,
    document_create,
    item_upsert,
    library_for_locale,
    localized_file_attach,
    localized_file_confirm,
)
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db


def pdf(tag: str) -> bytes:
    return make_pdf_bytes(tag)


def translate(source: PortalItemPage, code: str) -> PortalItemPage:
    """Translate (or re-sync) ``source`` into ``code`` with wagtail-localize and publish it."""
    translation_source, _ = TranslationSource.update_or_create_from_instance(source)
    page, _created = translation_source.create_or_update_translation(
        Locale.objects.get(language_code=code), publish=False, fallback=True, copy_parent_pages=True
    )
    page.get_latest_revision().publish()
    return PortalItemPage.objects.get(pk=page.pk)


def sheet(key: str = "x1-sheet") -> PortalItemPage:
    return make_item(
        key=key, files=[FileSpec(name="lf-x1.pdf", content=pdf("en-1"), title="X1 datasheet")]
    )


def test_translation_starts_without_copies_of_the_source_files(portal):
    source = sheet()
    translation = translate(source, "cs")
    assert not ItemAttachment.objects.filter(page=translation).exists()
    assert not translation.get_latest_revision().content.get("attachments")


def test_attach_goes_live_with_the_revision_and_survives_a_sync(portal):
    source = sheet()
    master = source.attachments.get()
    translation = translate(source, "cs")
    czech = document_create(name="lf-x1-cs.pdf", content=pdf("cs-1"), title="X1 datový list")

    revision = localized_file_attach(translation=translation, master=master, document=czech)
    assert not ItemAttachment.objects.filter(page=translation).exists()  # a draft until published
    revision.publish()
    localized = ItemAttachment.objects.get(page=translation)
    assert (localized.master, localized.document) == (master, czech)
    assert localized.master_sha256 == master.document.sha256 != ""

    # The source changes and is synced again: the localized file stays.
    item_upsert(
        key="x1-sheet",
        kind="product_sheet",
        title="X1 datasheet v2",
        parent=library_for_locale("en"),
        files=[FileSpec(name="lf-x1.pdf", content=pdf("en-1"), title="X1 datasheet")],
    )
    translation = translate(PortalItemPage.objects.get(pk=source.pk), "cs")
    assert list(ItemAttachment.objects.filter(page=translation)) == [localized]


def test_partner_gets_the_localized_file_or_the_master_with_a_note(portal):
    source = make_item(
        key="pair",
        files=[
            FileSpec(name="lf-a.pdf", content=pdf("a"), title="A"),
            FileSpec(name="lf-b.pdf", content=pdf("b"), title="B"),
        ],
    )
    a, b = source.attachments.order_by("sort_order")
    translation = translate(source, "de")
    german = document_create(name="lf-a-de.pdf", content=pdf("a-de"), title="A (Deutsch)")
    localized_file_attach(translation=translation, master=a, document=german, publish=True)

    class Reader:
        preferred_language = "de"
        pk = None

    listed = item_files(user=Reader(), item=translation)["files"]
    by_title = {f.title: f for f in listed}
    assert set(by_title) == {"A", "B"}
    assert by_title["A"].document_id == german.pk and not by_title["A"].not_in_language
    assert f"/{translation.pk}/files/{german.pk}/" in by_title["A"].url
    # B: the master's file at the master's own (stable) URL, with the note.
    assert by_title["B"].document_id == b.document_id and by_title["B"].not_in_language
    assert f"/{source.pk}/files/{b.document_id}/" in by_title["B"].url
    assert translation.has_file(german.pk)


def test_master_change_flags_out_of_date_confirm_and_new_upload_clear(portal):
    source = sheet("flag")
    master = source.attachments.get()
    translation = translate(source, "cs")
    czech = document_create(name="lf-cs.pdf", content=pdf("cs-1"), title="CS")
    localized_file_attach(translation=translation, master=master, document=czech, publish=True)
    localized = ItemAttachment.objects.get(page=translation)

    def stale() -> bool:
        (entry,) = item_files(user=None, item=translation)["files"]
        return entry.out_of_date

    assert not stale()
    # A new version of the master (the import replaces the attachment's document).
    item_upsert(
        key="flag",
        kind="product_sheet",
        title="Flag",
        parent=library_for_locale("en"),
        files=[FileSpec(name="lf-x1.pdf", content=pdf("en-2"), title="X1 datasheet")],
    )
    assert ItemAttachment.objects.get(pk=master.pk).document_id != master.document_id
    assert stale()
    localized_file_confirm(attachment=localized)
    assert not stale()

    # The master document's file itself replaced (Wagtail's document edit): flagged again.
    doc = ItemAttachment.objects.get(pk=master.pk).document
    from django.core.files.base import ContentFile

    doc.file.save("x1-v3.pdf", ContentFile(pdf("en-3")), save=False)
    doc._set_document_file_metadata()
    doc.save()
    assert stale()
    newer = document_create(name="lf-cs2.pdf", content=pdf("cs-2"), title="CS 2")
    localized_file_attach(translation=translation, master=master, document=newer, publish=True)
    assert not stale()
    assert ItemAttachment.objects.filter(page=translation).count() == 1


def test_confirm_reaches_a_pending_draft(portal):
    source = sheet("draft")
    master = source.attachments.get()
    translation = translate(source, "de")
    localized_file_attach(
        translation=translation,
        master=master,
        document=document_create(name="lf-de.pdf", content=pdf("de-1")),
        publish=True,
    )
    item_upsert(
        key="draft",
        kind="product_sheet",
        title="Draft",
        parent=library_for_locale("en"),
        files=[FileSpec(name="lf-x1.pdf", content=pdf("en-2"), title="X1 datasheet")],
    )
    translation = PortalItemPage.objects.get(pk=translation.pk).specific
    translation.title = "Entwurf"
    draft = translation.save_revision()
    localized_file_confirm(attachment=ItemAttachment.objects.get(page=translation))
    draft.refresh_from_db()
    draft.publish()
    (entry,) = item_files(user=None, item=PortalItemPage.objects.get(pk=translation.pk))["files"]
    assert not entry.out_of_date


def test_attach_refuses_a_file_of_another_item(portal):
    one, other = sheet("one"), sheet("other")
    translation = translate(one, "cs")
    with pytest.raises(ValueError):
        localized_file_attach(
            translation=translation,
            master=other.attachments.get(),
            document=document_create(name="lf-x.pdf", content=pdf("x")),
        )
    with pytest.raises(ValueError):
        localized_file_attach(
            translation=one, master=one.attachments.get(), document=one.attachments.get().document
        )


def test_an_import_names_the_master_a_file_localizes(portal):
    from kb.models import ItemKey

    source = sheet("imported")
    master = source.attachments.get()
    translation = translate(source, "cs")
    ItemKey.objects.create(key="imported-cs", page=translation)

    def upsert(content: bytes, localizes: str = "X1 datasheet"):
        return item_upsert(
            key="imported-cs",
            kind="product_sheet",
            title="X1 datový list",
            parent=translation.get_parent(),
            files=[FileSpec(name="lf-cs.pdf", content=content, localizes=localizes)],
        )

    upsert(pdf("cs"))
    localized = ItemAttachment.objects.get(page=translation)
    assert (localized.master_id, localized.master_sha256) == (master.pk, master.document.sha256)
    with pytest.raises(ValueError, match="no file"):
        upsert(pdf("cs"), localizes="Nothing")


def test_a_reader_of_another_language_gets_its_localized_file_on_the_source(portal):
    from permissions.tests.factories import MembershipFactory

    source = sheet("reader")
    master = source.attachments.get()
    translation = translate(source, "cs")
    czech = document_create(name="lf-reader-cs.pdf", content=pdf("reader-cs"), title="CS")
    localized_file_attach(translation=translation, master=master, document=czech, publish=True)
    partner = MembershipFactory().user
    partner.preferred_language = "cs"
    listed = item_files(user=partner, item=source)
    assert [f.document_id for f in listed["files"]] == [czech.pk, master.document_id]
    assert f"/{translation.pk}/files/{czech.pk}/" in listed["files"][0].url
    assert not listed["fallback_note"]
    partner.preferred_language = "de"  # no German file: the English one with the note
    listed = item_files(user=partner, item=source)
    assert [f.document_id for f in listed["files"]] == [master.document_id]
    assert listed["fallback_note"]
