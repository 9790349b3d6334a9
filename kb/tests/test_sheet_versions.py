"""Product sheet versions (issue #12, deliverable 3): each publish with a new version label
records a changelog entry; partners read the history on the sheet; staff compare versions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Locale
from wagtail_localize.models import TranslationSource

from kb.models import ProductSheetPage, ProductSheetVersion
from kb.selectors import product_sheet_history
from kb.services import VersionLabelUsed, product_sheet_version_record
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db


def sheet(key="x1-sheet", label="v1", note="<p>First release.</p>", **kwargs) -> ProductSheetPage:
    return make_item(
        key=key, extra={"version_label": label, "change_note": note, **kwargs.pop("extra", {})}
    )


def republish(page: ProductSheetPage, label: str, note: str, user=None) -> ProductSheetPage:
    page = ProductSheetPage.objects.get(pk=page.pk)
    page.version_label, page.change_note = label, note
    page.save_revision(user=user).publish(user=user)
    return ProductSheetPage.objects.get(pk=page.pk)


def labels(page) -> list[str]:
    return list(
        ProductSheetVersion.objects.filter(page_id=page.pk).values_list("version_label", flat=True)
    )


def superuser(email="eva@vendor.example"):
    from accounts.models import User

    return User.objects.create_superuser(email=email, password="x")


def partner_client() -> tuple[Client, Any]:
    from permissions.tests.factories import MembershipFactory

    user: Any = MembershipFactory().user
    client = Client()
    client.force_login(user)
    return client, user


# --- entries on publish --------------------------------------------------------------------------


def test_each_publish_with_a_new_label_records_an_entry(portal):
    page = sheet()
    first = page.versions.get()
    assert (first.version_label, first.note) == ("v1", "<p>First release.</p>")
    assert first.revision_id == page.live_revision_id
    assert first.published_at == page.last_published_at

    editor = superuser()
    page = republish(page, "v2", "<p>Corrected the PoE budget.</p>", user=editor)
    newest = page.versions.first()
    assert labels(page) == ["v2", "v1"]
    assert newest.revision_id == page.live_revision_id
    assert newest.published_by == editor  # from Wagtail's publish log (the signal has no user)

    # Same label, other content: no new entry. A changed note corrects the newest entry's.
    page.summary = "Now with a summary"
    page = republish(page, "v2", "<p>Corrected the PoE+ budget to 120 W.</p>")
    assert labels(page) == ["v2", "v1"]
    assert page.versions.first().note == "<p>Corrected the PoE+ budget to 120 W.</p>"


def test_a_draft_or_scheduled_publish_records_nothing_until_live(portal):
    page = sheet()
    page.version_label, page.change_note = "v2", "<p>Later.</p>"
    page.save_revision()  # a draft
    assert labels(page) == ["v1"]

    page = ProductSheetPage.objects.get(pk=page.pk)
    page.go_live_at = timezone.now() + datetime.timedelta(days=1)
    page.version_label, page.change_note = "v2", "<p>Later.</p>"
    revision = page.save_revision()
    revision.publish()  # scheduled: Wagtail sends page_published with the page not switched
    assert labels(page) == ["v1"]

    # The time has come (moved back instead of waiting): the revision and its content agree.
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save()
    from django.core.management import call_command

    call_command("publish_scheduled")
    assert labels(page) == ["v2", "v1"]


def test_workflow_approval_records_the_version_with_its_approver(portal):
    page = sheet()
    editor, approver = superuser(), superuser("approver@vendor.example")
    page.version_label, page.change_note = "v2", "<p>Reviewed change.</p>"
    revision = page.save_revision(user=editor)
    page.get_workflow().start(page, editor)
    assert labels(page) == ["v1"]  # in review: partners still read v1
    client = Client()
    client.force_login(approver)
    state = ProductSheetPage.objects.get(pk=page.pk).current_workflow_state.current_task_state
    response = client.post(
        f"/admin/pages/workflow/action/{page.pk}/approve/{state.pk}/", {"comment": ""}
    )
    assert response.status_code in (200, 302)
    newest = page.versions.first()
    assert (newest.version_label, newest.revision_id) == ("v2", revision.pk)
    assert newest.published_by == approver


def test_service_refuses_a_used_label_and_ignores_a_blank_one(portal):
    page = sheet()
    page = republish(page, "v2", "<p>Two.</p>")
    page.version_label = "v1"
    with pytest.raises(VersionLabelUsed):
        product_sheet_version_record(page=page)
    page.version_label = ""
    assert product_sheet_version_record(page=page) is None
    # Republishing an old revision (label v1) keeps the history as it was.
    page.revisions.order_by("pk").first().publish()
    assert labels(page) == ["v2", "v1"]


def test_importer_can_record_with_its_own_date_and_user(portal):
    page = make_item(key="imp", extra={"version_label": ""})
    assert labels(page) == []
    page.version_label = "2026.1"
    at = timezone.now() - datetime.timedelta(days=30)
    user = superuser("ops@vendor.example")
    entry = product_sheet_version_record(
        page=page, note="<p>Imported.</p>", published_at=at, user=user
    )
    assert (entry.published_at, entry.published_by, entry.revision) == (at, user, None)


def test_a_translation_has_its_own_entries_after_its_sources_history(portal):
    page = sheet()
    page = republish(page, "v2", "<p>Two.</p>")
    source, _ = TranslationSource.update_or_create_from_instance(page)
    czech, _ = source.create_or_update_translation(
        Locale.objects.get(language_code="cs"), publish=False, fallback=True, copy_parent_pages=True
    )
    czech = ProductSheetPage.objects.get(pk=czech.pk)
    assert czech.version_label == "v2"  # synchronised: the same version in every language
    czech.change_note = "<p>Dvě.</p>"  # (the translator's note)
    czech.save_revision().publish()
    history = list(czech.versions.all())
    assert [(e.version_label, e.note) for e in history] == [
        ("v2", "<p>Dvě.</p>"),
        ("v1", "<p>First release.</p>"),  # copied from the source, in its language
    ]
    assert history[1].revision_id is None
    assert labels(page) == ["v2", "v1"]  # the source's own history is untouched


# --- the admin form ------------------------------------------------------------------------------


def _sheet_form(page, **fields):
    from wagtail.test.utils.form_data import (
        inline_formset,
        nested_form_data,
        rich_text,
        streamfield,
    )

    data = {
        "title": page.title,
        "slug": page.slug,
        "summary": "",
        "body": rich_text(""),
        "specifications": streamfield([]),
        "changelog": rich_text(""),
        "attachments": inline_formset([]),
        "version_label": page.version_label,
        "change_note": rich_text(page.change_note),
        **fields,
    }
    return nested_form_data(data)


def test_admin_form_validates_label_and_note(client, portal):
    from wagtail.test.utils.form_data import rich_text

    client.force_login(superuser())
    page = republish(sheet(), "v2", "<p>Two.</p>")
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    publish = {"action-publish": "publish"}

    def errors(**fields) -> str:
        response = client.post(edit, _sheet_form(page, **publish, **fields))
        assert response.status_code == 200, "the form was accepted"
        return response.content.decode()

    assert "already published on" in errors(version_label="v1", change_note=rich_text("<p>x</p>"))
    assert "Say what changed in version v3" in errors(version_label="v3", change_note=rich_text(""))
    assert "This is the note of version v2" in errors(
        version_label="v3", change_note=rich_text("<p>Two.</p>")
    )
    assert "keep a version label" in errors(version_label="")
    add = reverse("wagtailadmin_pages:add", args=["kb", "productsheetpage", page.get_parent().pk])
    assert "No version published yet" in client.get(add).content.decode()

    response = client.post(
        edit, _sheet_form(page, **publish, version_label="v3", change_note=rich_text("<p>3</p>"))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert labels(page) == ["v3", "v2", "v1"]
    # The current label with a corrected note is fine (no new entry).
    response = client.post(
        edit,
        _sheet_form(page, **publish, version_label="v3", change_note=rich_text("<p>Three</p>")),
    )
    assert response.status_code == 302
    assert labels(page) == ["v3", "v2", "v1"]
    assert "Three" in page.versions.first().note


# --- partners read the history -------------------------------------------------------------------


def test_partner_sees_history_newest_first_in_their_time_zone(portal):
    page = sheet(note="<p>First release.</p>")
    page = republish(page, "v2", "<p>Corrected the PoE budget.</p>")
    for label, at in (
        ("v1", datetime.datetime(2026, 1, 10, 9, 0)),
        ("v2", datetime.datetime(2026, 3, 1, 23, 30)),
    ):
        ProductSheetVersion.objects.filter(page=page, version_label=label).update(
            published_at=at.replace(tzinfo=datetime.UTC)
        )
    client, user = partner_client()
    user.time_zone = "Asia/Tokyo"
    user.save()
    html = client.get(page.url).content.decode()
    assert 'id="history"' in html
    assert html.index("Corrected the PoE budget.") < html.index("First release.")
    assert "Version v2" in html
    assert "2026-03-02" in html  # 23:30 UTC is the next morning in Tokyo (datetime attribute)


def test_long_history_shows_the_latest_few_and_paginates_the_rest(portal):
    page = sheet()
    base = timezone.now() - datetime.timedelta(days=400)
    ProductSheetVersion.objects.bulk_create(
        ProductSheetVersion(
            page=page,
            version_label=f"v1.{n}",
            note=f"<p>Change number {n}.</p>",
            published_at=base + datetime.timedelta(hours=n),
        )
        for n in range(1, 60)
    )
    page.versions.filter(version_label="v1").update(published_at=base)  # the oldest
    client, _user = partner_client()
    html = client.get(page.url).content.decode()
    assert html.count('class="version"') == ProductSheetPage.HISTORY_LATEST
    assert "Change number 55." in html and "Change number 54." not in html
    assert "?history=1#history" in html

    html = client.get(page.url, {"history": 1}).content.decode()
    assert html.count('class="version"') == ProductSheetPage.HISTORY_PAGE_SIZE
    html = client.get(page.url, {"history": 1, "history_page": 3}).content.decode()
    assert html.count('class="version"') == 60 - 2 * ProductSheetPage.HISTORY_PAGE_SIZE
    assert "First release." in html  # the oldest, on the last page
    assert "Version v1.59" in html  # the current version is named on every page


def test_history_queries_do_not_grow_with_the_history(portal):
    short, long = sheet(key="short"), sheet(key="long")
    base = timezone.now() - datetime.timedelta(days=400)
    ProductSheetVersion.objects.bulk_create(
        ProductSheetVersion(page=long, version_label=f"v0.{n}", note="<p>x</p>", published_at=base)
        for n in range(300)
    )

    def queries(page, full):
        with CaptureQueriesContext(connection) as ctx:
            history = product_sheet_history(sheet=page, full=full, page_number="2")
            list(history.entries)
        return len(ctx.captured_queries)

    assert queries(long, False) == queries(short, False) == 1
    assert queries(long, True) <= 3


# --- staff compare versions ----------------------------------------------------------------------


def test_staff_compare_two_versions_partners_never(portal):
    page = sheet()
    page = republish(page, "v2", "<p>Two.</p>")
    page = republish(page, "v3", "<p>Three.</p>")
    staff = Client()
    staff.force_login(superuser())
    versions_url = reverse("kb_sheet_versions", args=[page.pk])
    html = staff.get(versions_url).content.decode()
    v3, v2, v1 = page.versions.all()
    compare = reverse(
        "wagtailadmin_pages:revisions_compare", args=[page.pk, v2.revision_id, v3.revision_id]
    )
    assert compare in html  # "Compare with v2" on the v3 row
    response = staff.get(compare)
    assert response.status_code == 200
    assert "Three." in response.content.decode()
    # The picker: any two, older first whichever order they were picked in.
    response = staff.get(versions_url, {"a": v3.pk, "b": v1.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "wagtailadmin_pages:revisions_compare", args=[page.pk, v1.revision_id, v3.revision_id]
    )
    # The edit view links the versions page: its header menu and the Version panel.
    edit = staff.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert edit.count(versions_url) >= 2
    assert "Published versions (newest first):" in edit

    partner, _user = partner_client()
    for url in (versions_url, compare):
        response = partner.get(url)
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:
            assert "/login" in response["Location"] or "admin" in response["Location"]
        assert "Three." not in response.content.decode()
    anonymous = Client()
    assert anonymous.get(compare).status_code == 302


def test_the_sheet_page_costs_the_same_queries_with_a_long_history(portal):
    short, long = sheet(key="short"), sheet(key="long")
    base = timezone.now() - datetime.timedelta(days=400)
    ProductSheetVersion.objects.bulk_create(
        ProductSheetVersion(page=long, version_label=f"v0.{n}", note="<p>x</p>", published_at=base)
        for n in range(300)
    )
    client, _user = partner_client()

    def queries(page, params):
        client.get(page.url, params)  # warm the per-process caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page.url, params).status_code == 200
        return len(ctx.captured_queries)

    assert queries(long, {}) == queries(short, {})
    assert queries(long, {"history": 1, "history_page": 5}) <= queries(short, {"history": 1}) + 1
