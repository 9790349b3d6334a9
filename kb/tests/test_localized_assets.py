"""Localized asset files: a translation's own master document / master image / cover image,
linked to the source's by SHA-256 (kb.selectors.localized_asset)."""

from __future__ import annotations

import io

import pytest
from django.core.files.images import ImageFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from cobranding.services import cobrand_master
from files.models import PortalImage
from files.tests.factories import make_pdf_bytes
from kb.models import MarketingAssetPage
from kb.selectors import download_url, item_files, localized_asset
from kb.services import (
    Audience,
    document_create,
    localized_asset_file_attach,
    localized_asset_file_confirm,
)
from kb.tests.factories import make_item
from kb.tests.test_localized_files import translate
from localization.models import TranslationTask
from localization.services import translation_tasks_refresh
from permissions.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db


def image(name: str, color=(200, 30, 30)) -> PortalImage:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, format="PNG")
    made = PortalImage(title=name, file=ImageFile(io.BytesIO(out.getvalue()), name=f"{name}.png"))
    made.save()
    return made


def asset(key: str, audience: Audience | None = None) -> MarketingAssetPage:
    document = document_create(name=f"{key}.pdf", content=make_pdf_bytes(key), title=f"{key} pdf")
    item = make_item(
        key=key,
        kind="marketing_asset",
        audience=audience,
        extra={"master_image": image(key), "master_document": document, "asset_kind": "banner"},
    )
    return MarketingAssetPage.objects.get(pk=item.pk)


def czech(source: MarketingAssetPage) -> MarketingAssetPage:
    return MarketingAssetPage.objects.get(pk=translate(source, "cs").pk)


def reload(page: MarketingAssetPage) -> MarketingAssetPage:
    return MarketingAssetPage.objects.get(pk=page.pk)


def test_images_get_a_sha256_when_stored():
    assert len(image("hash").sha256) == 64


def test_translation_gets_the_source_file_with_a_note_until_localized(portal):
    source = asset("note-asset")
    translation = czech(source)
    got = localized_asset(translation, "master_image")
    assert (got.file, got.page.pk, got.not_in_language) == (source.master_image, source.pk, True)
    (entry,) = item_files(user=None, item=translation)["files"]
    assert entry.not_in_language and f"/{source.pk}/files/" in entry.url

    cs_image = image("cs-note", (10, 200, 10))
    revision = localized_asset_file_attach(
        translation=translation, which="master_image", document_or_image=cs_image
    )
    # A draft: partners still get the source's until the revision is published (review).
    assert localized_asset(reload(translation), "master_image").file == source.master_image
    revision.publish()
    got = localized_asset(reload(translation), "master_image")
    assert (got.file, got.not_in_language, got.out_of_date) == (cs_image, False, False)
    # Co-branding starts from what readers get: the PDF master first (issue #13), the same
    # localized_asset answer; without a PDF master, the localized image.
    pdf = localized_asset(reload(translation), "master_document").file
    assert pdf is not None and cobrand_master(reload(translation)).file == pdf
    MarketingAssetPage.objects.filter(pk=translation.pk).update(master_document=None)
    MarketingAssetPage.objects.filter(pk=source.pk).update(master_document=None)
    assert cobrand_master(reload(translation)).file == cs_image


def test_master_change_flags_the_task_then_confirm_and_upload_clear(portal):
    source = asset("flag-asset")
    translation = czech(source)
    cs_doc = document_create(name="cs.pdf", content=make_pdf_bytes("cs"), title="CS")
    localized_asset_file_attach(
        translation=translation, which="master_document", document_or_image=cs_doc, publish=True
    )
    translation_tasks_refresh()
    task = TranslationTask.objects.get(source=source, locale=translation.locale)
    assert task.stale_files == 0

    # A new master document on the source, published.
    draft = reload(source)
    draft.master_document = document_create(name="v2.pdf", content=make_pdf_bytes("v2"), title="v2")
    draft.save_revision().publish()
    translation_tasks_refresh()
    task.refresh_from_db()
    assert task.stale_files == 1 and "files_out_of_date" in task.reasons
    (entry,) = item_files(user=None, item=reload(translation))["files"]
    assert entry.document_id == cs_doc.pk and entry.out_of_date

    localized_asset_file_confirm(translation=reload(translation), which="master_document")
    assert not localized_asset(reload(translation), "master_document").out_of_date
    translation_tasks_refresh()
    task.refresh_from_db()
    assert task.stale_files == 0

    # The image changes; a new upload clears it.
    draft = reload(source)
    draft.master_image = image("v2", (1, 2, 3))
    draft.save_revision().publish()
    localized_asset_file_attach(
        translation=reload(translation),
        which="master_image",
        document_or_image=image("cs-old", (9, 9, 9)),
        publish=True,
    )
    assert not localized_asset(reload(translation), "master_image").out_of_date
    draft = reload(source)
    draft.master_image = image("v3", (4, 5, 6))
    draft.save_revision().publish()
    translation_tasks_refresh()
    task.refresh_from_db()
    assert localized_asset(reload(translation), "master_image").out_of_date
    assert task.stale_files == 1
    localized_asset_file_attach(
        translation=reload(translation),
        which="master_image",
        document_or_image=image("cs-new", (7, 7, 7)),
        publish=True,
    )
    translation_tasks_refresh()
    task.refresh_from_db()
    assert task.stale_files == 0


def test_http_exits_serve_the_localized_master_only_to_readers_of_the_translation(portal):
    region, elsewhere = RegionFactory(), RegionFactory()
    source = asset("exit-asset")
    translation = czech(source)
    cs_doc = document_create(name="exit-cs.pdf", content=make_pdf_bytes("cs"), title="CS")
    localized_asset_file_attach(
        translation=translation, which="master_document", document_or_image=cs_doc, publish=True
    )
    translation = reload(translation)
    assert translation.has_file(cs_doc.pk) and not translation.has_file(source.master_document_id)
    # Narrow the translation's audience to one region (its own rule on top of the source's).
    translation.audience_regions.set([region])
    translation.save_revision().publish()

    reader, outsider = Client(), Client()
    reader.force_login(MembershipFactory(organization=OrganizationFactory(region=region)).user)
    outsider.force_login(MembershipFactory(organization=OrganizationFactory(region=elsewhere)).user)
    download = download_url(translation, cs_doc)
    picture = reverse("kb:item_image", args=[translation.pk, "master", "thumb"])
    assert reader.get(download).status_code == 200
    assert reader.get(picture).status_code == 200  # the source's image, served for the translation
    assert outsider.get(download).status_code == 404
    assert outsider.get(picture).status_code == 404
    # The page shows the note for the image that is not localized yet.
    html = reader.get(translation.url).content.decode()
    assert "Not yet available in your language" in html
