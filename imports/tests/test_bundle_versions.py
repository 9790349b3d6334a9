"""Bundles and issue #12: items' go-live / expiry, and a re-imported file whose bytes changed
becoming a new version behind the same download URL (docs/bundle-format.md, "Schedules" and
"File versions")."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.versions import document_versions
from imports import importer
from imports.importer import bundle_import
from imports.parsing import BundleError
from imports.tests.test_bundles import PDF_A, PDF_B, b64, media_files, run, small_bundle, snapshot
from imports.tests.test_translations import CS, SOURCE
from kb.models import DownloadEvent, ItemKey

PDF_C = make_pdf_bytes("third file")


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _item(key: str = "first"):
    return ItemKey.objects.get(key=key).page.specific


def _partner() -> Client:
    """A partner's client, logged in now (each import resets the bundle's password, which ends
    earlier sessions)."""
    client = Client()
    assert client.login(email="anna@acme.example", password="Acme-Portal-2026!")
    return client


def _import(tmp_path: Path, bundle: dict) -> dict:
    return json.loads(run(tmp_path, bundle, "--json"))["items"]


# --- go_live_at / expire_at -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"go_live_at": "2026-05-01T09:00:00"},
            'go_live_at: "2026-05-01T09:00:00" has no UTC offset',
            id="naive",
        ),
        pytest.param(
            {"expire_at": "2026-05-01"}, 'expire_at: "2026-05-01" has no UTC offset', id="date-only"
        ),
        pytest.param(
            {"go_live_at": "next monday"},
            'go_live_at: "next monday" is not an ISO 8601',
            id="garbage",
        ),
        pytest.param({"go_live_at": 1767225600}, "go_live_at: must be a string", id="number"),
        pytest.param(
            {"go_live_at": "2026-06-01T09:00:00+02:00", "expire_at": "2026-06-01T07:00:00Z"},
            'expire_at: "2026-06-01T07:00:00Z" is not after go_live_at',
            id="expire-not-after-go-live",
        ),
    ],
)
def test_bad_schedule_refuses_the_whole_bundle_naming_item_and_field(
    portal, tmp_path, fields, expected
):
    bundle = small_bundle()
    bundle["items"].append({"key": "second", "kind": "product_sheet", "title": "Second"})
    bundle["items"][0].update(fields)
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, bundle)
    assert f'items[0] (key "first"): {expected}' in str(excinfo.value)
    assert snapshot() == before  # all or nothing: not even the valid item was written


def test_a_translation_takes_its_sources_schedule(portal, tmp_path):
    bundle = small_bundle()
    bundle["items"] = [
        copy.deepcopy(SOURCE),
        {**CS, "expire_at": "2026-06-01T07:00:00Z"},
    ]
    with pytest.raises(BundleError, match=r'items\[1\] \(key "x1-cs"\): expire_at: a translation'):
        bundle_import(data=bundle)


def test_future_go_live_schedules_a_new_item_and_reimports_update_or_clear_the_times(
    portal, tmp_path
):
    go_live = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    expire = go_live + timedelta(days=30)
    bundle = small_bundle()
    bundle["items"][0].update(go_live_at=_iso(go_live), expire_at=_iso(expire))
    printed = _import(tmp_path, bundle)["first"]

    page = _item()
    assert not page.live  # never published: not live until the scheduler publishes it
    assert (page.go_live_at, page.expire_at) == (go_live, expire)
    revision = page.get_latest_revision()
    assert revision.approved_go_live_at == go_live
    assert printed["files"]  # the URL it will have is printed already
    assert _partner().get(printed["files"][0]).status_code == 404

    # The same bundle again: already scheduled, nothing new.
    revisions = page.revisions.count()
    _import(tmp_path, bundle)
    assert _item().revisions.count() == revisions

    # Changed times are updated (still scheduled, at the new time).
    later = go_live + timedelta(hours=6)
    bundle["items"][0].update(go_live_at=_iso(later))
    _import(tmp_path, bundle)
    page = _item()
    assert not page.live and page.go_live_at == later
    assert page.get_latest_revision().approved_go_live_at == later
    assert page.revisions.filter(approved_go_live_at__isnull=False).count() == 1

    # Removed times are cleared: published now, nothing scheduled any more.
    del bundle["items"][0]["go_live_at"], bundle["items"][0]["expire_at"]
    again = _import(tmp_path, bundle)["first"]
    page = _item()
    assert page.live and page.go_live_at is None and page.expire_at is None
    assert not page.revisions.filter(approved_go_live_at__isnull=False).exists()
    assert again["files"] == printed["files"]
    assert _body(_partner().get(printed["files"][0])) == PDF_A


def test_expire_at_is_stored_on_a_live_item_and_a_past_go_live_publishes_now(portal, tmp_path):
    expire = datetime.fromisoformat("2099-12-31T23:00:00+01:00")
    bundle = small_bundle()
    bundle["items"][0].update(go_live_at="2020-01-01T00:00:00Z", expire_at=_iso(expire))
    _import(tmp_path, bundle)
    page = _item()
    assert page.live and page.expire_at == expire
    assert page.go_live_at == datetime.fromisoformat("2020-01-01T00:00:00+00:00")

    revisions = page.revisions.count()
    _import(tmp_path, bundle)  # unchanged
    assert _item().revisions.count() == revisions

    bundle["items"][0]["expire_at"] = "2098-01-01T00:00:00+00:00"
    _import(tmp_path, bundle)
    assert _item().expire_at == datetime.fromisoformat("2098-01-01T00:00:00+00:00")


def test_future_go_live_on_a_live_item_keeps_the_live_content_until_it_is_published(
    portal, tmp_path, monkeypatch
):
    bundle = small_bundle()
    url = _import(tmp_path, bundle)["first"]["files"][0]
    live_revision = _item().live_revision_id

    go_live = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    changed = copy.deepcopy(bundle)
    changed["items"][0].update(title="First (next season)", go_live_at=_iso(go_live))
    changed["items"][0]["files"][0].update(content_base64=b64(PDF_B), version_label="2026.2")
    printed = _import(tmp_path, changed)["first"]

    page = _item()
    # Partners keep the live content, file and times: the change waits in the scheduled revision.
    assert page.live and page.live_revision_id == live_revision
    assert page.title == "First" and page.go_live_at is None
    assert _body(_partner().get(url)) == PDF_A
    scheduled = page.get_latest_revision()
    assert scheduled.approved_go_live_at == go_live
    draft = scheduled.as_object()
    assert draft.title == "First (next season)"
    (attachment,) = draft.attachments.all()
    assert (attachment.document.version_number, attachment.document.version_label) == (2, "2026.2")
    assert attachment.document.go_live_at == go_live
    assert printed["files"] == [url]  # the same URL, for the version to come
    assert printed["file_versions"][0]["version"] == 2

    # The same bundle again: nothing new (no revision, no version).
    revisions, versions = page.revisions.count(), PortalDocument.objects.count()
    _import(tmp_path, changed)
    assert (_item().revisions.count(), PortalDocument.objects.count()) == (revisions, versions)

    # What the scheduler will do once the time has come: publish the approved revision; then v2
    # is served at the same URL.
    later = go_live + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    scheduled.publish()
    page = _item()
    assert page.title == "First (next season)" and page.go_live_at == go_live
    assert _body(_partner().get(url)) == PDF_B


# --- file versions ----------------------------------------------------------------------------


def test_changed_bytes_are_a_new_version_behind_the_same_url(portal, tmp_path):
    bundle = small_bundle()
    # A title names the file across versions (without one, the name is its title, and another
    # name would be another file).
    bundle["items"][0]["files"][0].update(title="First datasheet", version_label="2026.1")
    first = _import(tmp_path, bundle)["first"]
    [url] = first["files"]
    assert first["file_versions"] == [
        {"url": url, "title": "First datasheet", "version": 1, "version_label": "2026.1"}
    ]
    assert _body(_partner().get(url)) == PDF_A

    changed = copy.deepcopy(bundle)
    changed["items"][0]["files"][0].update(
        name="first-v2.pdf",
        content_base64=b64(PDF_B),
        version_label="2026.2",
        version_notes="New power figures.",
    )
    second = _import(tmp_path, changed)["first"]

    assert second["files"] == [url]  # CLARIFICATIONS 5: the printed URL never changes
    assert second["file_versions"][0]["version"] == 2
    assert second["file_versions"][0]["version_label"] == "2026.2"
    (attachment,) = _item().attachments.select_related("document")
    v2 = attachment.document
    v1 = PortalDocument.objects.get(pk=v2.lineage)
    assert [d.pk for d in document_versions(v1.pk)] == [v2.pk, v1.pk]  # history kept
    assert (v2.version_number, v2.version_label, v2.version_notes) == (
        2,
        "2026.2",
        "New power figures.",
    )
    assert default_storage.exists(v1.file.name)  # the old version is kept, not deleted

    partner = _partner()
    response = partner.get(url)
    assert _body(response) == PDF_B  # the old bytes are no longer served
    assert "first-v2.pdf" in response["Content-Disposition"]
    assert _body(partner.get(url.rsplit("/", 1)[0] + "/first-v2.pdf")) == PDF_B
    event = DownloadEvent.objects.latest("pk")
    assert (event.lineage, event.version_number) == (v1.pk, 2)

    # Back to the first bytes: a third version that restores v1 (history only grows).
    changed["items"][0]["files"][0].update(content_base64=b64(PDF_A), version_label="2026.3")
    third = _import(tmp_path, changed)["first"]
    assert third["files"] == [url] and third["file_versions"][0]["version"] == 3
    v3 = _item().attachments.get().document
    assert v3.rollback_of_id == v1.pk and v3.lineage == v1.pk
    assert _body(_partner().get(url)) == PDF_A


def test_unchanged_bytes_add_no_version_and_a_new_label_relabels_the_current_one(portal, tmp_path):
    bundle = small_bundle()
    bundle["items"][0]["files"][0]["version_label"] = "2026.1"
    _import(tmp_path, bundle)
    page = _item()
    before = snapshot()
    revisions = page.revisions.count()

    _import(tmp_path, bundle)
    assert snapshot() == before and _item().revisions.count() == revisions

    bundle["items"][0]["files"][0]["version_label"] = "2026.1a"
    printed = _import(tmp_path, bundle)["first"]
    assert snapshot() == before and _item().revisions.count() == revisions
    document = _item().attachments.get().document
    assert (document.version_number, document.version_label) == (1, "2026.1a")
    assert printed["file_versions"][0]["version_label"] == "2026.1a"

    # Without a label the current one is kept (e.g. one set in the admin).
    del bundle["items"][0]["files"][0]["version_label"]
    _import(tmp_path, bundle)
    assert _item().attachments.get().document.version_label == "2026.1a"


def test_a_removed_file_takes_its_versions_when_no_item_uses_it_any_more(portal, tmp_path):
    bundle = small_bundle()
    bundle["items"][0]["files"].append({"name": "second.pdf", "content_base64": b64(PDF_B)})
    _import(tmp_path, bundle)
    bundle["items"][0]["files"][1]["content_base64"] = b64(PDF_C)
    _import(tmp_path, bundle)
    second = _item().attachments.get(title="second.pdf").document
    lineage = [d.file.name for d in document_versions(second.lineage)]
    assert len(lineage) == 2

    del bundle["items"][0]["files"][1]
    _import(tmp_path, bundle)
    assert [a.title for a in _item().attachments.all()] == ["first.pdf"]
    assert not document_versions(second.lineage).exists()
    assert not any(default_storage.exists(name) for name in lineage)


def test_a_changed_localized_file_is_a_new_version_of_that_localized_file(portal, tmp_path):
    source = {
        **SOURCE,
        "files": [{"name": "x1.pdf", "title": "X1 datasheet PDF", "content_base64": b64(PDF_A)}],
    }
    czech = {
        **CS,
        "files": [
            {
                "name": "x1-cs.pdf",
                "title": "Datový list X1 (PDF)",
                "content_base64": b64(PDF_B),
                "localizes": "X1 datasheet PDF",
            }
        ],
    }
    bundle = small_bundle()
    bundle["items"] = [source, czech]
    first = _import(tmp_path, bundle)["x1-cs"]
    v1 = _item("x1-cs").attachments.get().document

    czech["files"][0].update(content_base64=b64(PDF_C), version_label="cs-2")
    second = _import(tmp_path, bundle)["x1-cs"]
    localized = _item("x1-cs").attachments.get()
    assert (localized.document.lineage, localized.document.version_number) == (v1.pk, 2)
    assert localized.document.version_label == "cs-2"
    assert localized.master_sha256 == localized.master.document.get_sha256()
    assert second["files"] == first["files"]
    assert PortalDocument.objects.filter(pk=v1.pk).exists()  # kept in the history


def test_a_failed_reimport_that_would_have_added_a_version_leaves_nothing(
    portal, tmp_path, monkeypatch
):
    bundle = small_bundle()
    bundle["items"].append({"key": "second", "kind": "product_sheet", "title": "Second"})
    url = _import(tmp_path, bundle)["first"]["files"][0]
    before = snapshot()
    versions = set(PortalDocument.objects.values_list("pk", flat=True))
    media = media_files()

    bundle["items"][0]["files"][0].update(content_base64=b64(PDF_B), version_label="2026.2")
    original = importer.item_upsert
    written: list[str] = []

    def failing_second(**kwargs):
        if kwargs["key"] == "second":
            written.extend(kwargs["stored"].paths)  # the first item's new version is stored
            raise ValueError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(importer, "item_upsert", failing_second)
    with pytest.raises(CommandError, match='items\\[1\\] \\(key "second"\\): disk full'):
        run(tmp_path, bundle)

    assert written, "the new version's object was written before the failure"
    assert set(PortalDocument.objects.values_list("pk", flat=True)) == versions  # no version row
    assert not any(default_storage.exists(name) for name in written)  # no object
    assert media_files() == media and snapshot() == before
    assert _body(_partner().get(url)) == PDF_A
    assert Page.objects.get(pk=_item().pk).live


def test_an_item_the_scheduler_expired_is_not_republished_by_the_same_bundle(portal, tmp_path):
    bundle = small_bundle()
    bundle["items"][0]["expire_at"] = "2020-01-01T00:00:00Z"  # a bundle may withdraw an item
    _import(tmp_path, bundle)
    page = _item()
    assert page.expire_at == datetime.fromisoformat("2020-01-01T00:00:00+00:00")
    page.unpublish(set_expired=True)  # what the scheduler does with an expired page
    revisions = page.revisions.count()

    _import(tmp_path, bundle)
    page = _item()
    assert not page.live and page.expired and page.revisions.count() == revisions
