"""Version-aware partners (issue #12, deliverable 5): what a partner downloaded, on the item page
("You downloaded v1 on … — v3 is available") and on the home page ("Updated since you
downloaded" per file version, "Withdrawn" named by the title they saw), through HTTP as a
partner, and the selectors the digest calls, in a fixed number of queries."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.versions import document_version_add
from kb.models import DownloadEvent, PortalHomePage
from kb.selectors import downloads_updated, downloads_withdrawn, item_files
from kb.services import Audience, FileSpec, attachment_version_propose, download_record
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _pdf(name: str, text: str, title: str = "") -> FileSpec:
    return FileSpec(name=name, content=make_pdf_bytes(text), title=title or name)


@pytest.fixture
def partner(portal):
    membership = MembershipFactory()
    user = membership.user
    user.time_zone = "Asia/Tokyo"
    user.preferred_language = "en"
    user.save()
    client = Client()
    client.force_login(user)
    return user, membership.organization, client


def _download(client, item, index: int = 0, user=None) -> None:
    """Download the item's ``index``-th file as the partner does (the stable URL)."""
    listed = item_files(user=user, item=item)["files"]
    response = client.get(listed[index].url)
    assert response.status_code == 200
    b"".join(response.streaming_content)


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def _section(html: str, heading: str) -> str:
    """The home's section headed ``heading`` (up to the next section)."""
    start = html.index(f'id="{heading}"')
    return html[start : html.index("</section>", start)]


def _new_version(item, document, text: str, notes: str = "", label: str = ""):
    version = document_version_add(
        document, name=f"{text}.pdf", content=make_pdf_bytes(text), notes=notes, label=label
    )
    attachment_version_propose(page=item, version=version).publish()
    return version


def _home() -> str:
    return PortalHomePage.objects.get(locale__language_code="en").url


def _backdate(user, at: datetime) -> None:
    DownloadEvent.objects.filter(user=user).update(downloaded_at=at)


# --- the item page ---------------------------------------------------------------------------


def test_the_item_says_which_version_was_downloaded_and_what_changed_since(partner):
    user, _org, client = partner
    item = make_item(key="badge-sheet", files=[_pdf("sheet.pdf", "v1", "Datasheet")])
    v1 = item.attachments.get().document
    html = _html(client, item.url)
    assert "You downloaded" not in html and "current version" not in html

    _download(client, item, user=user)
    # 20:30 UTC is the next morning in Tokyo: the date is the user's.
    moment = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    _backdate(user, moment)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")), translation.override("en"):
        shown = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    assert "March 2, 2026" in shown

    html = _html(client, item.url)
    assert f"You have the current version (v1, downloaded {shown})." in html

    v2 = _new_version(item, v1, "v2", notes="Corrected the pinout table.")
    _new_version(item, v2, "v3", notes="New prices for 2027.", label="2027.1")
    html = _html(client, item.url)
    assert f"You downloaded v1 on {shown} — v3 is available." in html
    # What changed, newest first.
    assert html.index("New prices for 2027.") < html.index("Corrected the pinout table.")
    assert "2027.1" in html

    _download(client, item, user=user)
    html = _html(client, item.url)
    assert "You have the current version (v3, downloaded" in html
    assert "is available" not in html and "Corrected the pinout" not in html


def test_item_badges_cost_two_queries_however_many_downloads(partner):
    user, _org, client = partner
    item = make_item(
        key="many-files",
        files=[_pdf(f"f{n}.pdf", f"file {n}", f"File {n}") for n in range(4)],
    )
    _download(client, item, 0, user=user)
    client.get(item.url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(item.url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for document in [a.document for a in item.attachments.all()]:
        _new_version(item, document, f"{document.pk}-2", notes="changed")
    events = [
        DownloadEvent(user=user, item_id=item.pk, lineage=a.document.lineage, version_number=1)
        for a in item.attachments.select_related("document")
        for _ in range(50)
    ]
    DownloadEvent.objects.bulk_create(events)
    client.get(item.url)  # the publishes dropped the header navigation's cache: warm it again
    assert count() <= few + 1  # the notes of the newer versions: one more query


# --- the home page: updated per file version ------------------------------------------------


def test_home_lists_updates_per_file_version_with_the_note(partner):
    user, _org, client = partner
    both = make_item(
        key="two-files",
        title="Two files",
        files=[_pdf("a.pdf", "a1", "Guide A"), _pdf("b.pdf", "b1", "Guide B")],
    )
    current = make_item(key="current-sheet", title="Unchanged sheet", files=[_pdf("c.pdf", "c")])
    _download(client, both, 0, user=user)
    _download(client, both, 1, user=user)
    _download(client, current, user=user)
    html = _html(client, _home())
    assert "Updated since you downloaded" not in html

    guide_a = both.attachments.get(document__title="Guide A").document
    _new_version(both, guide_a, "a2", notes="Chapter 4 rewritten.", label="2026.2")
    html = _html(client, _home())
    section = _section(html, "updated-h")
    assert "Guide A" in section and "v1 → v2" in section and "Chapter 4 rewritten." in section
    assert "Guide B" not in section and "Unchanged sheet" not in section

    updates = downloads_updated(user)
    assert [(u.item.pk, u.file_title, u.old_version, u.new_version) for u in updates] == [
        (both.pk, "Guide A", 1, 2)
    ]
    assert updates[0].note == "Chapter 4 rewritten." and updates[0].new_label == "2026.2"
    assert updates[0].title_seen == "Two files"
    # The digest asks for what changed since its last run.
    later = timezone.now() + timedelta(minutes=1)
    assert downloads_updated(user, since=later) == []

    # Downloading the new version clears it.
    _download(
        client,
        both,
        [f.title for f in item_files(user=user, item=both)["files"]].index("Guide A"),
        user=user,
    )
    assert downloads_updated(user) == []
    assert "Updated since you downloaded" not in _html(client, _home())


def test_a_pending_or_expired_version_is_no_update(partner):
    user, _org, client = partner
    item = make_item(key="pending-sheet", files=[_pdf("p.pdf", "p1")])
    _download(client, item, user=user)
    v1 = item.attachments.get().document
    pending = document_version_add(v1, name="p2.pdf", content=make_pdf_bytes("p2"))
    attachment_version_propose(page=item, version=pending)  # not published
    assert downloads_updated(user) == []
    attachment_version_propose(page=item, version=pending).publish()
    assert [u.new_version for u in downloads_updated(user)] == [2]
    PortalDocument.objects.filter(pk=pending.pk).update(
        expire_at=timezone.now() - timedelta(hours=1)
    )
    assert downloads_updated(user) == []


# --- the home page: withdrawn ----------------------------------------------------------------


def test_withdrawn_lists_what_the_partner_can_no_longer_get_by_the_title_they_saw(partner):
    user, org, client = partner
    expiring = make_item(key="w-version", title="Version expires", files=[_pdf("e.pdf", "e")])
    unpublished = make_item(key="w-unpub", title="Unpublished sheet", files=[_pdf("u.pdf", "u")])
    narrowed = make_item(key="w-narrow", title="Narrowed sheet", files=[_pdf("n.pdf", "n")])
    deleted = make_item(key="w-deleted", title="Old title", files=[_pdf("d.pdf", "d")])
    page_expired = make_item(key="w-expired", title="Page expires", files=[_pdf("x.pdf", "x")])
    kept = make_item(key="w-kept", title="Still here", files=[_pdf("k.pdf", "k")])
    for item in (expiring, unpublished, narrowed, deleted, page_expired, kept):
        _download(client, item, user=user)
    assert "Withdrawn" not in _html(client, _home())

    past = timezone.now() - timedelta(hours=1)
    PortalDocument.objects.filter(pk=expiring.attachments.get().document_id).update(expire_at=past)
    unpublished.unpublish()
    make_item(
        key="w-narrow",
        title="Narrowed sheet",
        files=[_pdf("n.pdf", "n")],
        audience=Audience(exceptions=[org]),
    )
    deleted.title = "New secret title"
    deleted.save_revision().publish()
    deleted_url = deleted.url
    deleted.delete()
    # Expired by its own time, before any scheduler unpublished it.
    type(page_expired).objects.filter(pk=page_expired.pk).update(expire_at=past)

    html = _html(client, _home())
    section = _section(html, "withdrawn-h")
    for title in (
        "Version expires",
        "Unpublished sheet",
        "Narrowed sheet",
        "Old title",
        "Page expires",
    ):
        assert title in section, title
    assert "Still here" not in section
    assert "New secret title" not in html and deleted_url not in html
    # Items they can no longer open are never linked; the file of a visible item links it.
    for item in (unpublished, narrowed, page_expired):
        assert f'href="{item.url}"' not in section
    assert f'href="{expiring.url}"' in section

    withdrawn = {w.title_seen: w for w in downloads_withdrawn(user)}
    assert set(withdrawn) == {
        "Version expires",
        "Unpublished sheet",
        "Narrowed sheet",
        "Old title",
        "Page expires",
    }
    assert not withdrawn["Version expires"].whole_item
    assert withdrawn["Version expires"].when == past.replace(microsecond=past.microsecond)
    assert withdrawn["Page expires"].whole_item and withdrawn["Page expires"].when is not None
    assert withdrawn["Old title"].whole_item and withdrawn["Old title"].when is not None
    assert withdrawn["Unpublished sheet"].when is not None
    # Newest first.
    whens = [w.when or w.downloaded_at for w in downloads_withdrawn(user)]
    assert whens == sorted(whens, reverse=True)
    assert len(downloads_withdrawn(user, limit=2)) == 2
    assert downloads_withdrawn(user, since=timezone.now() + timedelta(minutes=1)) == []


def test_a_withdrawal_the_partner_knows_of_is_not_listed(partner):
    user, _org, client = partner
    item = make_item(key="replaced", title="Replaced file", files=[_pdf("old.pdf", "o", "Old")])
    _download(client, item, user=user)
    _backdate(user, timezone.now() - timedelta(days=2))
    # The file is replaced by another one on the same item: withdrawn until they download it.
    make_item(key="replaced", title="Replaced file", files=[_pdf("new.pdf", "n", "New")])
    # (The removed file's document is gone with it: the entry names the item as they saw it.)
    assert [(w.title_seen, w.whole_item) for w in downloads_withdrawn(user)] == [
        ("Replaced file", False)
    ]
    assert "a file you downloaded (v1) was withdrawn" in _section(
        _html(client, _home()), "withdrawn-h"
    )
    _download(client, item, user=user)
    assert downloads_withdrawn(user) == []
    # The home's cached lists (kb.home) drop it at once: the download changed them.
    assert 'id="withdrawn-h"' not in _html(client, _home())

    # An expired version replaced by a newer one is an update, not a withdrawal.
    sheet = make_item(key="expire-then-new", title="Expiring", files=[_pdf("s.pdf", "s1")])
    _download(client, sheet, user=user)
    v1 = sheet.attachments.get().document
    PortalDocument.objects.filter(pk=v1.pk).update(expire_at=timezone.now() - timedelta(hours=1))
    assert [w.title_seen for w in downloads_withdrawn(user)] == ["Expiring"]
    _new_version(sheet, v1, "s2")
    assert downloads_withdrawn(user) == []
    assert [u.new_version for u in downloads_updated(user)] == [2]


def test_home_queries_do_not_grow_with_the_downloads(partner, django_assert_max_num_queries):
    user, _org, client = partner
    items = [
        make_item(key=f"bulk-{n}", title=f"Bulk {n}", files=[_pdf(f"bulk{n}.pdf", f"b{n}")])
        for n in range(6)
    ]
    _download(client, items[0], user=user)
    client.get(_home())
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_home()).status_code == 200
    few = len(ctx.captured_queries)

    # Thousands of downloads, updates and withdrawals of every kind.
    docs = {item.pk: item.attachments.get().document for item in items}
    events = [
        DownloadEvent(
            user=user,
            item_id=item.pk,
            document=docs[item.pk],
            lineage=docs[item.pk].lineage,
            version_number=1,
            title_seen=item.title,
        )
        for item in items
        for _ in range(400)
    ]
    DownloadEvent.objects.bulk_create(events)
    for item in items[:2]:
        _new_version(item, docs[item.pk], f"{item.pk}-v2", notes="newer")
    items[2].unpublish()
    items[3].delete()
    PortalDocument.objects.filter(pk=docs[items[4].pk].pk).update(
        expire_at=timezone.now() - timedelta(hours=1)
    )
    client.get(_home())
    with django_assert_max_num_queries(few + 2):
        html = client.get(_home()).content.decode()
    assert "Updated since you downloaded" in html and 'id="withdrawn-h"' in html
    assert len(downloads_updated(user)) == 2 and len(downloads_withdrawn(user)) == 3


def test_a_download_without_a_file_version_is_withdrawn_with_its_item(partner):
    # A co-branded render (made from the master image, which has no versions) is recorded as a
    # download of the item without a file: it is withdrawn with the item, never "updated".
    user, _org, client = partner
    asset = make_item(key="cb-asset", kind="marketing_asset", title="Co-branded banner")
    download_record(user=user, item=asset, document=None)
    assert downloads_withdrawn(user) == [] and downloads_updated(user) == []
    asset.unpublish()
    [withdrawn] = downloads_withdrawn(user)
    assert (withdrawn.title_seen, withdrawn.whole_item) == ("Co-branded banner", True)
    assert "Co-branded banner" in _section(_html(client, _home()), "withdrawn-h")


# --- the home's cached downloads lists (issue #16) ---------------------------------------------


def test_the_homes_downloads_lists_are_kept_across_downloads_that_cannot_change_them(partner):
    """kb.home caches "updated" and "withdrawn" per user; a download keeps the cache only when
    it cannot change either list, and every change shows on the next home."""
    from django.core.cache import cache

    from kb.home import _downloads_token_key

    user, org, client = partner
    updated = make_item(key="c-updated", title="Updated guide", files=[_pdf("g.pdf", "g1")])
    other = make_item(key="c-other", title="Other sheet", files=[_pdf("o.pdf", "o")])
    gone = make_item(key="c-gone", title="Gone sheet", files=[_pdf("x.pdf", "x")])
    fresh = make_item(key="c-fresh", title="Fresh sheet", files=[_pdf("f.pdf", "f")])
    _download(client, updated, user=user)
    _download(client, gone, user=user)
    _new_version(updated, updated.attachments.get().document, "g2", notes="Reworded.")
    gone.unpublish()
    html = _html(client, _home())  # computed and cached
    assert "Updated guide" in _section(html, "updated-h")
    assert "Gone sheet" in _section(html, "withdrawn-h")
    token = cache.get(_downloads_token_key(user.pk))

    # A first download of another file is on neither list: the cached lists stay.
    _download(client, other, user=user)
    assert cache.get(_downloads_token_key(user.pk)) == token
    with CaptureQueriesContext(connection) as cached_home:
        html = _html(client, _home())
    assert "Updated guide" in _section(html, "updated-h")
    assert "Gone sheet" in _section(html, "withdrawn-h")
    assert not any("kb_downloadevent" in q["sql"] for q in cached_home.captured_queries)

    # Downloading the newer version takes the update off at once.
    _download(client, updated, user=user)
    assert cache.get(_downloads_token_key(user.pk)) != token
    html = _html(client, _home())
    assert 'id="updated-h"' not in html and "Gone sheet" in _section(html, "withdrawn-h")

    # A publish (a content generation) shows at once, and so does an access change.
    _download(client, fresh, user=user)
    _html(client, _home())
    fresh.unpublish()
    assert "Fresh sheet" in _section(_html(client, _home()), "withdrawn-h")
    _html(client, _home())
    make_item(
        key="c-other",
        title="Other sheet",
        files=[_pdf("o.pdf", "o")],
        audience=Audience(exceptions=[org]),
    )
    assert "Other sheet" in _section(_html(client, _home()), "withdrawn-h")


def test_a_backdated_download_or_one_of_another_version_recomputes_the_lists(partner):
    from django.core.cache import cache

    from kb.home import _downloads_token_key

    user, _org, _client = partner
    item = make_item(key="c-backdated", files=[_pdf("b.pdf", "b1")])
    document = item.attachments.get().document
    cache.set(_downloads_token_key(user.pk), "before")
    download_record(user=user, item=item, document=document, at=timezone.now())
    assert cache.get(_downloads_token_key(user.pk)) != "before"
    cache.set(_downloads_token_key(user.pk), "before")
    download_record(user=user, item=item, document=document)  # not said to be the served one
    assert cache.get(_downloads_token_key(user.pk)) != "before"
