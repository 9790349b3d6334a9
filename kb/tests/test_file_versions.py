"""File versions behind a stable URL: a version goes live with the page revision that adopts it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.validation import UploadRejected
from files.versions import document_version_add, document_version_rollback, document_versions
from kb.models import DownloadEvent
from kb.selectors import item_files
from kb.services import FileSpec, attachment_version_propose, document_version_delete
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def world(portal):
    item = make_item(
        key="fv-sheet",
        files=[FileSpec(name="fv.pdf", content=make_pdf_bytes("v1"), title="Datasheet")],
    )
    partner = MembershipFactory().user
    client = Client()
    client.force_login(partner)
    v1 = item.attachments.get().document
    return item, partner, client, v1


def test_a_new_version_is_served_at_the_same_url_only_once_its_revision_is_published(world):
    item, partner, client, v1 = world
    url = item_files(user=partner, item=item)["files"][0].url
    assert _body(client.get(url)) == v1.file.open("rb").read()

    v2 = document_version_add(v1, name="fv-2.pdf", content=make_pdf_bytes("v2"), label="2026.2")
    assert (v2.lineage, v2.version_number) == (v1.pk, 2)
    revision = attachment_version_propose(page=item, version=v2)
    # Pending: partners keep the approved version, at the same URL.
    assert _body(client.get(url)) == v1.file.open("rb").read()
    assert item_files(user=partner, item=item)["files"][0].url == url

    revision.publish()
    response = client.get(url)
    assert _body(response) == v2.file.open("rb").read()
    assert "fv-2.pdf" in response["Content-Disposition"]
    assert item_files(user=partner, item=item)["files"][0].url == url
    # Any name is accepted for the key; the download records the version served.
    assert client.get(url.rsplit("/", 1)[0] + "/old-name.pdf").status_code == 200
    event = DownloadEvent.objects.filter(user=partner).latest("pk")
    assert (event.lineage, event.version_number, event.title_seen) == (v1.pk, 2, item.title)


def test_rollback_is_a_new_version_and_history_only_grows(world):
    item, partner, client, v1 = world
    v2 = document_version_add(v1, name="fv-2.pdf", content=make_pdf_bytes("v2"))
    attachment_version_propose(page=item, version=v2).publish()
    v3 = document_version_rollback(v1, notes="Back to the first sheet")
    assert v3.version_number == 3 and v3.rollback_of == v1 and v3.sha256 == v1.sha256
    assert v3.file.name != v1.file.name  # its own stored object
    assert list(document_versions(v1.pk).values_list("version_number", flat=True)) == [3, 2, 1]


def test_a_refused_upload_leaves_no_version_and_no_object(world, tmp_path):
    item, partner, client, v1 = world
    before = set(PortalDocument.objects.values_list("pk", flat=True))
    with pytest.raises(UploadRejected):
        document_version_add(v1, name="evil.pdf", content=b"<html><script>x</script></html>")
    assert set(PortalDocument.objects.values_list("pk", flat=True)) == before


def test_an_expired_version_is_withdrawn_before_any_scheduler_ran(world):
    item, partner, client, v1 = world
    url = item_files(user=partner, item=item)["files"][0].url
    PortalDocument.objects.filter(pk=v1.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    assert item_files(user=partner, item=item)["files"] == []


def test_delete_refuses_a_version_in_use_and_removes_an_unused_one(
    world, django_capture_on_commit_callbacks
):
    item, partner, client, v1 = world
    v2 = document_version_add(v1, name="fv-2.pdf", content=make_pdf_bytes("v2"))
    with pytest.raises(ValueError, match="published version"):
        document_version_delete(v1)
    attachment_version_propose(page=item, version=v2)
    with pytest.raises(ValueError, match="latest revision"):
        document_version_delete(v2)
    v3 = document_version_add(v1, name="fv-3.pdf", content=make_pdf_bytes("v3"))
    storage, name = v3.file.storage, v3.file.name
    with django_capture_on_commit_callbacks(execute=True):
        document_version_delete(v3)
    # A tombstone stays (its number is never reused); its file is gone and it leaves the history.
    v3.refresh_from_db()
    assert v3.deleted_at is not None and not v3.file.name
    assert v3.pk not in set(document_versions(v1.pk).values_list("pk", flat=True))
    assert not storage.exists(name)
