"""Wagtail's admin shows and takes go-live and expiry times in the editor's own time zone
(``User.time_zone``, the one the portal's profile page edits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from wagtail.test.utils.form_data import nested_form_data, rich_text
from wagtail.users.models import UserProfile

from accounts.models import User
from kb.models import LibraryIndexPage
from kb.services import library_for_locale

pytestmark = pytest.mark.django_db


@pytest.fixture
def prague_editor(client, portal):
    editor = User.objects.create_superuser(email="eva@vendor.example", password="x")
    editor.time_zone = "Europe/Prague"
    editor.save()
    client.force_login(editor)
    return editor


def test_an_editor_in_prague_schedules_in_prague_time(client, prague_editor):
    section = library_for_locale("en").add_child(instance=LibraryIndexPage(title="S", slug="s"))
    data = nested_form_data(
        {
            "title": "S",
            "slug": "s",
            "intro": rich_text(""),
            "go_live_at": "2027-01-15 10:00",  # winter: Prague is UTC+1
            "expire_at": "2027-07-15 10:00",  # summer: UTC+2
        }
    )
    response = client.post(f"/admin/pages/{section.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft = LibraryIndexPage.objects.get(pk=section.pk).get_latest_revision_as_object()
    assert draft.go_live_at == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    assert draft.expire_at == datetime(2027, 7, 15, 8, 0, tzinfo=UTC)
    # And shown back in Prague time.
    html = client.get(f"/admin/pages/{section.pk}/edit/").content.decode()
    assert 'value="2027-01-15 10:00"' in html
    assert 'value="2027-07-15 10:00"' in html


def test_a_zone_picked_in_wagtails_account_settings_is_the_users_zone(prague_editor):
    profile = UserProfile.get_for_user(prague_editor)
    profile.current_time_zone = "America/New_York"
    profile.save()
    prague_editor.refresh_from_db()
    assert prague_editor.time_zone == "America/New_York"


def test_a_zone_changed_on_the_portal_profile_reaches_the_admin(client, prague_editor):
    client.get("/admin/")
    assert UserProfile.get_for_user(prague_editor).current_time_zone == "Europe/Prague"
    User.objects.filter(pk=prague_editor.pk).update(time_zone="Asia/Tokyo")
    client.get("/admin/")
    assert UserProfile.get_for_user(prague_editor).current_time_zone == "Asia/Tokyo"
