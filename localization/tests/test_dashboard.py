"""The per-locale translation dashboard, localized file upload/confirm and what partners get."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from wagtail.models import Locale
from wagtail_localize.models import TranslationSource

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
from localization.services import coverage_snapshot_record, marketer_set, page_translation_create
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def translate(source, code: str, *, publish: bool = True) -> PortalItemPage:
    translation_source, _ = TranslationSource.update_or_create_from_instance(source)
    page, _ = translation_source.create_or_update_translation(
        Locale.objects.get(language_code=code), publish=False, fallback=True
    )
    if publish:
        page.get_latest_revision().publish()
    return PortalItemPage.objects.get(pk=page.pk).specific


def item(key: str, content: bytes | None = None) -> PortalItemPage:
    return item_upsert(
        key=key,
        kind="product_sheet",
        title=f"Sheet {key}",
        parent=library_for_locale("en"),
        files=[
            FileSpec(name=f"db-{key}.pdf", content=content or make_pdf_bytes(key), title="Sheet")
        ],
    )


@pytest.fixture
def world(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        done = item("done")
        czech = translate(done, "cs")
        german = translate(done, "de")
        for n in range(3):
            item(f"missing-{n}")
        master = done.attachments.get()
        for page, code in ((czech, "cs"), (german, "de")):
            localized_file_attach(
                translation=page,
                master=master,
                document=document_create(name=f"db-{code}.pdf", content=make_pdf_bytes(code)),
                publish=True,
            )
        # A new version of the master: both localized files are out of date.
        item("done", make_pdf_bytes("done v2"))
    jiri = marketer_set(user=UserFactory(email="jiri@vendor.example"), locales=["cs"])
    hans = marketer_set(user=UserFactory(email="hans@vendor.example"), locales=["de"])
    return {"source": done, "cs": czech, "de": german, "jiri": jiri, "hans": hans}


def assert_refused(response) -> None:
    """Refused: 403, or Wagtail admin's redirect with its "permission" message."""
    if response.status_code == 302:
        added = [str(m) for m in response.wsgi_request._messages._queued_messages]
        assert any("permission" in m.lower() for m in added), (response["Location"], added)
        return
    assert response.status_code == 403, response.status_code


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_marketer_sees_only_his_locales(world):
    jiri = client_for(world["jiri"])
    assert jiri.get("/admin/translations/").url == "/admin/translations/cs/"
    response = jiri.get("/admin/translations/cs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sheet missing-0" in html and "may be out of date" in html
    assert "<svg" in html and "<title" in html and "Coverage data as a table" in html
    assert response.context["dashboard"].counts == {
        "out_of_date": 1,
        "missing": 3,
        "in_progress": 0,
        "in_review": 0,
        "done": 0,
    }
    assert [loc.language_code for loc in response.context["dashboard"].locales] == ["cs"]
    (stale,) = [r for r in response.context["dashboard"].rows if r.task.state == "out_of_date"]
    assert stale.sync_url and stale.sync_url.startswith("/admin/localize/update/")
    assert jiri.get(stale.sync_url).status_code == 200
    assert_refused(jiri.get("/admin/translations/de/"))
    assert_refused(jiri.get("/admin/translations/en/"))
    home = jiri.get("/admin/").content.decode()
    assert "Your translation tasks" in home and "/admin/translations/cs/" in home
    assert "/admin/translations/de/" not in home


def test_dashboard_queries_do_not_grow_with_tasks(
    world, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    jiri = client_for(world["jiri"])
    jiri.get("/admin/translations/cs/")  # warm caches (content types, locales)
    with django_assert_max_num_queries(40) as few:
        jiri.get("/admin/translations/cs/")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(12):
            source = item(f"more-{n}")
            if n % 2:
                translate(source, "cs", publish=n % 4 == 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = jiri.get("/admin/translations/cs/")
    assert len(response.context["dashboard"].rows) == 16


def test_marketer_uploads_and_confirms_only_in_his_locale(world):
    jiri, source = client_for(world["jiri"]), world["source"]
    master = source.attachments.get()
    url = f"/admin/translations/pages/{world['cs'].pk}/files/{master.pk}/"
    assert jiri.get(url).status_code == 200
    upload = SimpleUploadedFile("novy.pdf", make_pdf_bytes("cs v2"), "application/pdf")
    response = jiri.post(url, {"file": upload, "title": ""})
    assert response.status_code == 302
    # To the task list, whose row offers "Submit translation for review".
    assert response["Location"] == "/admin/translations/cs/?state=in_progress"
    draft = PortalItemPage.objects.get(pk=world["cs"].pk).get_latest_revision().content
    (child,) = draft["attachments"]
    assert child["master"] == master.pk and child["master_sha256"] == master.document.sha256
    # Live only after review: the published file is still the old one.
    live = ItemAttachment.objects.get(page=world["cs"])
    assert live.document_id != child["document"]

    listing = jiri.get(f"/admin/translations/pages/{world['cs'].pk}/files/")
    assert listing.status_code == 200 and url in listing.content.decode()
    assert_refused(jiri.get(f"/admin/translations/pages/{world['de'].pk}/files/"))
    edit = jiri.get(f"/admin/pages/{world['cs'].pk}/edit/").content.decode()
    assert f"/admin/translations/pages/{world['cs'].pk}/files/" in edit

    other = f"/admin/translations/pages/{world['de'].pk}/files/{master.pk}/"
    assert_refused(jiri.get(other))
    source_url = f"/admin/translations/pages/{source.pk}/files/{master.pk}/"
    assert_refused(jiri.get(source_url))

    german = ItemAttachment.objects.get(page=world["de"])
    assert_refused(jiri.post(f"/admin/translations/files/{german.pk}/confirm/"))
    response = jiri.post(f"/admin/translations/files/{live.pk}/confirm/")
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.master_sha256 == source.attachments.get().document.sha256


def test_partner_sees_the_badges_on_the_translation(world):
    member = MembershipFactory(user=UserFactory(email="p@partner.example", preferred_language="cs"))
    html = client_for(member.user).get(world["cs"].url).content.decode()
    assert _cs("May be out of date") in html
    second = item("two-files")
    czech = translate(second, "cs")
    html = client_for(member.user).get(czech.url).content.decode()
    assert _cs("Not yet available in your language") in html
    master = second.attachments.get()
    assert f"/portal/items/{second.pk}/files/{master.document_id}/" in html


def test_chart_shows_backdated_history(world):
    from datetime import timedelta

    from django.utils import timezone

    cs = Locale.objects.get(language_code="cs")
    today = timezone.localdate()
    for days, done in ((20, 0), (10, 1), (5, 2)):
        coverage_snapshot_record(
            locale=cs, day=today - timedelta(days=days), counts={"missing": 4 - done, "done": done}
        )
    response = client_for(world["jiri"]).get("/admin/translations/cs/")
    chart = response.context["dashboard"].chart
    assert [p.coverage for p in chart.points][:3] == [0, 25, 50]
    assert 'class="line-done"' in response.content.decode()


def test_a_marketers_regions_narrow_his_list(portal, django_capture_on_commit_callbacks):
    from kb.services import Audience
    from permissions.tests.factories import RegionFactory

    emea = RegionFactory(key="r-emea")
    dach = RegionFactory(key="r-dach", parent=emea)
    apac = RegionFactory(key="r-apac")

    def restricted(key, regions):
        return item_upsert(
            key=key,
            kind="product_sheet",
            title=key,
            parent=library_for_locale("en"),
            audience=Audience(regions=regions),
        )

    with django_capture_on_commit_callbacks(execute=True):
        restricted("for-all", [])
        restricted("for-emea", [emea])
        restricted("for-dach", [dach])
        restricted("for-apac", [apac])
    user = marketer_set(user=UserFactory(email="k@vendor.example"), locales=["cs"], regions=[dach])
    dashboard = client_for(user).get("/admin/translations/cs/").context["dashboard"]
    assert {row.task.source.title for row in dashboard.rows} == {"for-all", "for-emea", "for-dach"}
    assert dashboard.counts["missing"] == 3
    wide = marketer_set(user=UserFactory(email="w@vendor.example"), locales=["cs"], regions=[emea])
    dashboard = client_for(wide).get("/admin/translations/cs/").context["dashboard"]
    assert {row.task.source.title for row in dashboard.rows} == {"for-all", "for-emea", "for-dach"}


def test_chart_coordinates_are_not_localized(world):
    """A Czech (or German) admin formats floats with a decimal comma; SVG coordinates must not."""
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(world["jiri"])
    profile.preferred_language = "cs"
    profile.save()
    coverage_snapshot_record(locale=Locale.objects.get(language_code="cs"), day=None)
    svg = client_for(world["jiri"]).get("/admin/translations/cs/").content.decode()
    svg = svg[svg.index('class="portal-coverage-chart"') :]
    svg = svg[: svg.index("</svg>")]
    assert re.findall(r'\b[xy]\d?="[^"]*,[^"]*"', svg) == []
    assert re.search(r'<text x="\d+(\.\d+)?" y="', svg)


def test_translate_link_ticks_the_locale_of_the_task_list(world):
    client = client_for(world["jiri"])
    rows = client.get("/admin/translations/cs/").context["dashboard"].rows
    url = next(row.translate_url for row in rows if row.translate_url)
    assert url.endswith("?select_locale=cs")
    form = client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="locales"[^>]*checked', form), form


def test_task_list_offers_localized_files_and_submit_for_review(
    world, django_capture_on_commit_callbacks
):
    """The translation editor has neither "Localized files" nor "Submit for review": a draft's
    task row offers both, and submitting from it puts the translation in review."""
    with django_capture_on_commit_callbacks(execute=True):
        draft = page_translation_create(source=item("draft"), locale="cs")
    client = client_for(world["jiri"])
    rows = client.get("/admin/translations/cs/").context["dashboard"].rows
    row = next(row for row in rows if row.task.translation_id == draft.pk)
    assert row.files_url == f"/admin/translations/pages/{draft.pk}/files/"
    assert client.get(row.files_url).status_code == 200
    assert row.submit_url
    assert not any(r.submit_url for r in rows if r.task.state != "in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(row.submit_url, {"next": "/admin/translations/cs/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/translations/cs/"
    rows = client.get("/admin/translations/cs/").context["dashboard"].rows
    assert next(r for r in rows if r.task.translation_id == draft.pk).task.state == "in_review"
    # A German marketer gets neither on a Czech translation (he has no Czech task list at all).
    assert_refused(client_for(world["hans"]).post(row.submit_url))


def test_localized_file_default_title_carries_the_translations_language(world):
    jiri, source = client_for(world["jiri"]), world["source"]
    master = source.attachments.get()
    master.title = "Sheet (EN)"
    master.save()
    url = f"/admin/translations/pages/{world['cs'].pk}/files/{master.pk}/"
    upload = SimpleUploadedFile("list.pdf", make_pdf_bytes("cs v3"), "application/pdf")
    assert jiri.post(url, {"file": upload, "title": ""}).status_code == 302
    draft = PortalItemPage.objects.get(pk=world["cs"].pk).get_latest_revision().content
    (child,) = draft["attachments"]
    assert child["title"] == "Sheet (CS)"


def _cs(message: str) -> str:
    """``message`` as a Czech reader sees it (the page speaks the reader's language)."""
    from django.utils import translation

    with translation.override("cs"):
        return translation.gettext(message)
