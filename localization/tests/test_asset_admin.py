"""Localized asset files (master document / image, cover) in the translation admin."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tests.factories import UserFactory
from kb.models import MarketingAssetPage
from kb.selectors import localized_asset
from kb.tests.test_localized_assets import asset, czech, image
from localization.models import TranslationTask
from localization.services import marketer_set
from localization.tests.test_dashboard import assert_refused, client_for

pytestmark = pytest.mark.django_db


def png(color=(0, 120, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), color).save(out, format="PNG")
    return out.getvalue()


def test_marketer_uploads_and_confirms_a_localized_master_image(
    portal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        source = asset("adm-asset")
        translation = czech(source)
    jiri = client_for(marketer_set(user=UserFactory(email="j@vendor.example"), locales=["cs"]))
    hans = client_for(marketer_set(user=UserFactory(email="h@vendor.example"), locales=["de"]))
    url = f"/admin/translations/pages/{translation.pk}/assets/master_image/"

    listing = jiri.get(f"/admin/translations/pages/{translation.pk}/files/").content.decode()
    assert url in listing and "Master image" in listing
    assert url in jiri.get("/admin/translations/cs/").content.decode()
    assert jiri.get(url).status_code == 200
    assert_refused(hans.get(url))
    assert jiri.get(f"/admin/translations/pages/{translation.pk}/assets/body/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = jiri.post(url, {"file": SimpleUploadedFile("cs.png", png(), "image/png")})
    assert response.status_code == 302
    draft = MarketingAssetPage.objects.get(pk=translation.pk).get_latest_revision()
    assert draft.content["master_image_source_sha256"] == source.master_image.sha256
    # Live after review only.
    assert localized_asset(translation, "master_image").not_in_language
    with django_capture_on_commit_callbacks(execute=True):
        draft.publish()
        # The source's master image changes: out of date, confirmable.
        changed = MarketingAssetPage.objects.get(pk=source.pk)
        changed.master_image = image("adm-v2", (5, 5, 5))
        changed.save_revision().publish()
    task = TranslationTask.objects.get(source=source, locale=translation.locale)
    assert task.state == "out_of_date" and task.stale_files == 1
    confirm = f"{url}confirm/"
    assert confirm in jiri.get("/admin/translations/cs/").content.decode()
    assert_refused(hans.post(confirm))
    with django_capture_on_commit_callbacks(execute=True):
        assert jiri.post(confirm).status_code == 302
    task.refresh_from_db()
    assert task.stale_files == 0
    assert not localized_asset(
        MarketingAssetPage.objects.get(pk=translation.pk), "master_image"
    ).out_of_date
