"""Scheduled publishing and expiry (docs/scheduling.md): an item whose expiry has passed is hidden
at every exit BEFORE any scheduler ran (the queries compare the times), and the scheduled job
then unpublishes it through Wagtail's own logic; a scheduled go-live is published by the job with
the portal's publish handlers (audience compiled, partners see it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail.models import PageLogEntry

from accounts.models import User
from files.tests.factories import make_pdf_bytes
from kb.home import home_feed
from kb.models import PortalHomePage, PortalItemPage
from kb.scheduled import pages_publish_scheduled
from kb.services import FileSpec, library_for_locale, section_upsert
from kb.tests.factories import make_item
from permissions.policies.pages import page_policy
from permissions.tests.factories import MembershipFactory
from search.backends import get_search_backend
from search.documents import iter_documents
from search.selectors import portal_search

pytestmark = pytest.mark.django_db


def _search_titles(user, q: str) -> set[str]:
    page = portal_search(user=user, params=QueryDict(f"q={q}&language=all"))
    return {strip_tags(result.title_html) for result in page.results}


def _exits(client, user, item) -> dict[str, bool]:
    """Where ``item`` reaches the partner: item URL, listing, search, download, home feed."""
    document = item.specific.attachments.first().document
    download = reverse("kb:download", args=[item.pk, document.pk, document.filename])
    listing = client.get(library_for_locale("en").url, {"language": "all"}).content.decode()
    feed = home_feed(user=user, home=PortalHomePage.objects.get(locale__language_code="en"))
    return {
        "policy": page_policy.can_view(user, item),
        "item url": client.get(item.url).status_code == 200,
        "listing": item.title in listing,
        "search": item.title in _search_titles(user, "walrus"),
        "download": client.get(download).status_code == 200,
        "home feed": item.pk in {i.pk for i in feed.new_for_you},
        "queryset": PortalItemPage.objects.visible_to(user).filter(pk=item.pk).exists(),
    }


@pytest.fixture
def partner(portal, client):
    user = MembershipFactory().user
    client.force_login(user)
    return user


def _item(key: str, title: str):
    return make_item(
        key=key,
        title=title,
        summary="walrus tusks",
        files=[FileSpec(name=f"{key}.pdf", content=make_pdf_bytes(key))],
    )


def test_an_expired_item_is_hidden_everywhere_before_the_scheduler_runs(partner, client):
    expiring = _item("expiring-sheet", "Expiring walrus sheet")
    control = _item("control-sheet", "Control walrus sheet")
    # Published with an expiry that has just passed: Wagtail leaves it live and not expired
    # until its scheduled unpublish runs.
    expiring.expire_at = timezone.now() - timedelta(seconds=1)
    expiring.save_revision().publish()
    expiring.refresh_from_db()
    assert expiring.live and not expiring.expired
    get_search_backend().rebuild(iter_documents())

    assert all(_exits(client, partner, control).values()), _exits(client, partner, control)
    seen = _exits(client, partner, expiring)
    assert not any(seen.values()), seen
    # Staff still find it (to fix or extend it).
    staff = User.objects.create_superuser(email="staff@vendor.example", password="x")
    assert page_policy.can_view(staff, expiring)
    assert "Expiring walrus sheet" in _search_titles(staff, "walrus")

    pages_publish_scheduled()
    expiring.refresh_from_db()
    assert not expiring.live and expiring.expired
    assert PageLogEntry.objects.filter(page=expiring, action="wagtail.unpublish.scheduled").exists()
    control.refresh_from_db()
    assert control.live


def test_an_expiry_ahead_changes_nothing_yet(partner, client):
    item = _item("later-sheet", "Later walrus sheet")
    item.expire_at = timezone.now() + timedelta(hours=1)
    item.save_revision().publish()
    get_search_backend().rebuild(iter_documents())
    assert all(_exits(client, partner, item).values())
    pages_publish_scheduled()
    item.refresh_from_db()
    assert item.live


def test_an_expired_section_hides_its_items(partner, client):
    section = section_upsert(parent=library_for_locale("en"), slug="seasonal", title="Seasonal")
    item = make_item(key="inside-sheet", title="Inside walrus sheet", parent=section)
    assert page_policy.can_view(partner, item)
    section.expire_at = timezone.now() - timedelta(seconds=1)
    section.save_revision().publish()
    item.refresh_from_db()
    assert item.audience.eff_expire_at == section.expire_at
    assert not page_policy.can_view(partner, item)
    assert client.get(item.url).status_code == 404


def test_the_job_publishes_a_scheduled_revision_with_the_portal_handlers(
    partner, client, django_capture_on_commit_callbacks
):
    item = _item("scheduled-sheet", "Scheduled walrus sheet")
    item.title = "Scheduled walrus sheet v2"
    item.go_live_at = timezone.now() + timedelta(hours=1)
    revision = item.save_revision()
    revision.publish()  # scheduled: the live page keeps its old title
    revision.refresh_from_db()
    assert revision.approved_go_live_at is not None
    item.refresh_from_db()
    assert item.title == "Scheduled walrus sheet"
    # The hour passes (moved into the past: the revision's go-live and its approval).
    past = timezone.now() - timedelta(seconds=1)
    revision.content["go_live_at"] = past.isoformat()
    revision.approved_go_live_at = past
    revision.save(update_fields=["content", "approved_go_live_at"])
    with django_capture_on_commit_callbacks(execute=True):  # the search outbox drains on commit
        pages_publish_scheduled()
    item.refresh_from_db()
    assert item.title == "Scheduled walrus sheet v2"
    assert PageLogEntry.objects.filter(page=item, action="wagtail.publish.scheduled").exists()
    # Published like an editor's publish: partners get it, search has it (the outbox).
    assert client.get(item.url).status_code == 200
    assert "Scheduled walrus sheet v2" in _search_titles(partner, "walrus")
