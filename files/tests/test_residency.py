"""Data residency and the storage sweeper on local storage (each region a folder under MEDIA_ROOT;
the same code runs against S3 buckets in the Ceph leg): files of a one-region item and brand kits
go to their region's bucket, storage_residency reports and moves misplaced files, and
storage_orphans finds objects without rows and rows without objects."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command

from files.models import PortalDocument
from files.tests import malicious
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.selectors import item_single_region
from permissions.services import organization_set_logo
from permissions.tests.factories import OrganizationFactory, RegionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_storage")]

REGIONS = {"emea": {"bucket": "portal-emea"}, "apac": {"bucket": "portal-apac"}}


@pytest.fixture
def regions(settings):
    settings.PORTAL_STORAGE_REGIONS = REGIONS
    emea = RegionFactory(key="emea")
    dach = RegionFactory(key="dach", parent=emea)
    apac = RegionFactory(key="apac")
    latam = RegionFactory(key="latam")
    return {"emea": emea, "dach": dach, "apac": apac, "latam": latam}


def _files(key: str):
    from kb.services import FileSpec

    return [FileSpec(name=f"{key}.pdf", content=malicious.pdf(key))]


def _document(page) -> PortalDocument:
    return page.specific.attachments.get().document


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_single_region_comes_from_permissions(portal, regions):
    one = make_item(key="one", audience=Audience(regions=[regions["dach"]]))
    two = make_item(key="two", audience=Audience(regions=[regions["dach"], regions["apac"]]))
    everyone = make_item(key="all")
    assert item_single_region(one) == regions["dach"]
    assert item_single_region(two) is None
    assert item_single_region(everyone) is None


def test_files_go_to_their_regions_bucket(portal, regions):
    dach = make_item(key="dach", audience=Audience(regions=[regions["dach"]]), files=_files("a"))
    latam = make_item(key="latam", audience=Audience(regions=[regions["latam"]]), files=_files("b"))
    world = make_item(key="world", files=_files("c"))
    # DACH has no bucket of its own: its parent EMEA's. LATAM has none at all: the default.
    assert _document(dach).file.name == "regions/emea/documents/a.pdf"
    assert _document(latam).file.name == "documents/b.pdf"
    assert _document(world).file.name == "documents/c.pdf"
    assert (Path(settings.MEDIA_ROOT) / "regions/emea/documents/a.pdf").is_file()

    org = OrganizationFactory(region=regions["dach"])
    organization_set_logo(organization=org, name="logo.png", content=malicious.image())
    assert org.logo.name.startswith("regions/emea/brandkits/logo")
    assert run("storage_residency").startswith("0 misplaced")


def test_residency_report_and_move(portal, regions, django_capture_on_commit_callbacks):
    page = make_item(key="moving", audience=Audience(regions=[regions["apac"]]), files=_files("m"))
    old = _document(page).file.name
    assert old == "regions/apac/documents/m.pdf"
    # The item's audience changes: its file now belongs in EMEA's bucket.
    page.audience_regions = [regions["emea"]]
    page.save()
    report = run("storage_residency")
    assert "MISPLACED" in report and "is in apac, must be in emea" in report
    assert default_storage.exists(old)  # a report changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        report = run("storage_residency", "--move")
    assert "MOVED" in report and "1 moved" in report
    document = _document(page)
    document.refresh_from_db()
    assert document.file.name == "regions/emea/documents/m.pdf"
    assert default_storage.exists(document.file.name)
    assert not default_storage.exists(old)
    with document.file.open("rb") as handle:
        assert handle.read() == malicious.pdf("m")
    assert "0 misplaced" in run("storage_residency")


def test_shared_file_of_two_regions_is_a_conflict(portal, regions):
    from kb.models import ItemAttachment

    first = make_item(key="f", audience=Audience(regions=[regions["emea"]]), files=_files("s"))
    second = make_item(key="s", audience=Audience(regions=[regions["apac"]]))
    ItemAttachment.objects.create(page=second, document=_document(first), title="shared")
    report = run("storage_residency", "--move")
    assert "CONFLICT" in report and "1 conflicts" in report and "0 moved" in report


def test_orphans_are_listed_and_deleted(portal, regions):
    page = make_item(key="kept", audience=Audience(regions=[regions["emea"]]), files=_files("k"))
    kept = _document(page).file.name
    stray = Path(settings.MEDIA_ROOT) / "regions/apac/documents/stray.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left behind")
    os.utime(stray, (1_000_000_000, 1_000_000_000))
    young = Path(settings.MEDIA_ROOT) / "documents/uploading.pdf"
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"row not committed yet")

    report = run("storage_orphans")
    assert "ORPHAN regions/apac/documents/stray.pdf" in report
    assert "younger than 60 min, kept) documents/uploading.pdf" in report
    assert kept not in report
    assert stray.exists()

    run("storage_orphans", "--delete")
    assert not stray.exists() and young.exists()
    assert default_storage.exists(kept)

    default_storage.delete(kept)
    report = run("storage_orphans")
    assert f"MISSING files.PortalDocument {_document(page).pk}: {kept}" in report


def test_publishing_moves_admin_uploads_into_the_region(
    portal, regions, django_capture_on_commit_callbacks
):
    from kb.models import ItemAttachment
    from kb.services import document_create

    # An admin upload belongs to no item yet: it starts in the default bucket.
    document = document_create(name="upload.pdf", content=malicious.pdf("u"))
    assert document.file.name == "documents/upload.pdf"
    page = make_item(key="pub", audience=Audience(regions=[regions["dach"]]))
    ItemAttachment.objects.create(page=page, document=document, title="upload")
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    document.refresh_from_db()
    assert document.file.name == "regions/emea/documents/upload.pdf"
    assert default_storage.exists(document.file.name)
    assert not (Path(settings.MEDIA_ROOT) / "documents/upload.pdf").exists()
