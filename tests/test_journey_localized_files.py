"""Jiří's journey (docs JOURNEYS.md), the localized-file part, end to end over HTTP:
his task list shows the Czech datasheet out of date after its master PDF got a new version; he
uploads the Czech PDF, submits the translation for review; after the regional review and the
approval it is live, his task is done and Czech partners download the Czech file."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from wagtail.models import Locale
from wagtail_localize.models import Translation, TranslationSource

from accounts.tests.factories import UserFactory
from files.tests.factories import make_pdf_bytes
from kb.models import ItemAttachment, PortalItemPage
from kb.services import (
    FileSpec,
    document_create,
    item_upsert,
    library_for_locale,
    localized_file_attach,
)
from localization.models import TranslationTask
from localization.services import marketer_set
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def datasheet(content: bytes) -> PortalItemPage:
    return item_upsert(
        key="j-x1",
        kind="product_sheet",
        title="X1 datasheet",
        parent=library_for_locale("en"),
        files=[FileSpec(name="j-x1.pdf", content=content, title="X1 datasheet PDF")],
    )


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_jiri_updates_an_out_of_date_czech_pdf(portal, django_capture_on_commit_callbacks):
    run = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    with run():
        source = datasheet(make_pdf_bytes("X1 v1"))
        translation_source, _ = TranslationSource.get_or_create_from_instance(source)
        translation = Translation.objects.create(
            source=translation_source, target_locale=Locale.objects.get(language_code="cs")
        )
        translation.save_target(publish=False)
        czech = PortalItemPage.objects.get(pk=translation.get_target_instance().pk).specific
        czech.get_latest_revision().publish()
        localized_file_attach(
            translation=czech,
            master=source.attachments.get(),
            document=document_create(name="j-x1-cs.pdf", content=make_pdf_bytes("X1 cs v1")),
            publish=True,
        )
        source = datasheet(make_pdf_bytes("X1 v2"))  # the master PDF's new version
        PortalItemPage.objects.filter(pk=czech.pk).update(
            last_published_at=source.last_published_at
        )
        from localization.services import translation_tasks_refresh

        translation_tasks_refresh(translation_keys=[source.translation_key])
    jiri = marketer_set(user=UserFactory(email="jiri@vendor.example"), locales=["cs"])
    petra = marketer_set(user=UserFactory(email="petra@vendor.example"), locales=["cs"])
    moderator = UserFactory(email="approver@vendor.example", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    partner = MembershipFactory(user=UserFactory(email="p@cz.example", preferred_language="cs"))

    # 1. His task list: the datasheet is out of date because of its master PDF.
    client = login(jiri)
    dashboard = client.get("/admin/translations/cs/").context["dashboard"]
    (row,) = [r for r in dashboard.rows if r.task.source_id == source.pk]
    assert row.task.state == "out_of_date" and "files_out_of_date" in row.task.reasons
    assert _cs("May be out of date") in login(partner.user).get(czech.url).content.decode()

    # 2. He uploads the new Czech PDF and submits the translation for review.
    (file_row,) = row.files
    with run():
        response = client.post(
            file_row.upload_url,
            {"file": SimpleUploadedFile("x1-cs-v2.pdf", make_pdf_bytes("X1 cs v2"))},
        )
        assert response.status_code == 302
    assert TranslationTask.objects.get(pk=row.task.pk).state == "in_progress"
    with run():
        response = client.post(f"/admin/localization/translations/{translation.pk}/submit/")
        assert response.status_code == 302
    assert TranslationTask.objects.get(pk=row.task.pk).state == "in_review"

    # 3. Another Czech marketer reviews it, a moderator approves: it goes live.
    with run():
        state = PortalItemPage.objects.get(pk=czech.pk).current_workflow_state
        state.current_task_state.approve(user=petra)
        state.refresh_from_db()
        state.current_task_state.approve(user=moderator)
    assert TranslationTask.objects.get(pk=row.task.pk).state == "done"
    live = ItemAttachment.objects.select_related("document").get(page=czech)
    # The uploaded file (kept through the submit's re-sync of the strings), not the old one.
    from files.storage import content_sha256

    assert live.document.sha256 == content_sha256(make_pdf_bytes("X1 cs v2"))
    assert live.master_sha256 == source.attachments.get().document.sha256
    html = login(partner.user).get(czech.url).content.decode()
    assert _cs("May be out of date") not in html
    assert f"/portal/items/{czech.pk}/files/{live.document_id}/" in html
    download = login(partner.user).get(
        f"/portal/items/{czech.pk}/files/{live.document_id}/{live.document.filename}"
    )
    assert download.status_code == 200


def _cs(message: str) -> str:
    """``message`` as a Czech reader sees it (the page speaks the reader's language)."""
    from django.utils import translation

    with translation.override("cs"):
        return translation.gettext(message)
