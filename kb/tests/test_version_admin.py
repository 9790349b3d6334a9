"""The admin's file versions (issue #12): "Upload new version", the "Versions" history with live
and pending versions, approval through the page's workflow, restore, the staff download and the
admin-only delete; partners reach none of it and keep the approved bytes until publication."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Page, WorkflowState

from accounts.tests.factories import UserFactory
from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.versions import document_version_add, document_versions
from kb.selectors import item_files
from kb.services import FileSpec
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _bytes(document: PortalDocument) -> bytes:
    with document.open_file() as f:
        return f.read()


@pytest.fixture
def world(portal):
    item = make_item(
        key="va-sheet",
        files=[FileSpec(name="va.pdf", content=make_pdf_bytes("va v1"), title="VA datasheet")],
    )
    editor = UserFactory(email="eva@vendor.example", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    moderator = UserFactory(email="approver@vendor.example", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    admin = UserFactory(email="root@vendor.example", is_staff=True, is_superuser=True)
    partner = MembershipFactory().user
    v1 = item.attachments.get().document
    return {
        "item": item,
        "v1": v1,
        "lineage": v1.lineage,
        "editor": _login(editor),
        "moderator": _login(moderator),
        "admin": _login(admin),
        "partner": _login(partner),
        "partner_user": partner,
    }


def _upload(client: Client, lineage: int, content: bytes, **extra):
    data = {
        "file": SimpleUploadedFile("va-new.pdf", content, content_type="application/pdf"),
        "label": "2026.2",
        "notes": "New prices",
        "submit_for_approval": "on",
        **extra,
    }
    return client.post(reverse("portal_file_version_add", args=[lineage]), data)


def _workflow_action(world, action: str) -> None:
    """A moderator's "Approve" / "Request changes" in Wagtail's own admin view."""
    item = world["item"]
    state = Page.objects.get(pk=item.pk).specific.current_workflow_state
    url = reverse(
        "wagtailadmin_pages:workflow_action", args=[item.pk, action, state.current_task_state.pk]
    )
    response = world["moderator"].post(url, {"comment": "ok"})
    assert response.status_code in (200, 302), response.content[:2000]
    state.refresh_from_db()
    expected = {
        "approve": WorkflowState.STATUS_APPROVED,
        "reject": WorkflowState.STATUS_NEEDS_CHANGES,
    }
    assert state.status == expected[action]


def _partner_url(world) -> str:
    return item_files(user=world["partner_user"], item=world["item"])["files"][0].url


def test_upload_submits_a_pending_version_and_approval_publishes_it_at_the_same_url(world):
    item, v1, lineage = world["item"], world["v1"], world["lineage"]
    url = _partner_url(world)
    page = world["editor"].get(reverse("portal_file_versions", args=[lineage]))
    assert page.status_code == 200 and "Upload new version" in page.content.decode()

    response = _upload(world["editor"], lineage, make_pdf_bytes("va v2"), pages=[str(item.pk)])
    assert response.status_code == 302, response.content[:3000]
    v2 = PortalDocument.objects.get(lineage=lineage, version_number=2)
    assert (v2.version_label, v2.version_notes) == ("2026.2", "New prices")
    state = Page.objects.get(pk=item.pk).specific.current_workflow_state
    assert state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS

    # Pending: shown to editors, invisible to partners (same URL, old bytes).
    history = world["editor"].get(reverse("portal_file_versions", args=[lineage]))
    (use,) = history.context["uses"]
    assert (use.live, use.pending, use.pending_state) == (v1, v2, "in_moderation")
    assert "Pending approval" in history.content.decode()
    for action in ("download", "adopt", "restore"):
        assert reverse(f"portal_file_version_{action}", args=[lineage, v1.pk]) in (
            history.content.decode()
        )
    assert reverse("portal_file_version_delete", args=[lineage, v1.pk]) not in (
        history.content.decode()
    )
    as_admin = world["admin"].get(reverse("portal_file_versions", args=[lineage]))
    assert reverse("portal_file_version_delete", args=[lineage, v1.pk]) in (
        as_admin.content.decode()
    )
    assert _body(world["partner"].get(url)) == _bytes(v1)

    # A moderator approves (the workflow's last task publishes): new bytes, same URL.
    _workflow_action(world, "approve")
    assert _partner_url(world) == url
    assert _body(world["partner"].get(url)) == _bytes(v2)
    (use,) = world["editor"].get(reverse("portal_file_versions", args=[lineage])).context["uses"]
    assert (use.live, use.pending) == (v2, None)


def test_rejection_keeps_partners_on_the_approved_version(world):
    item, v1, lineage = world["item"], world["v1"], world["lineage"]
    url = _partner_url(world)
    _upload(world["editor"], lineage, make_pdf_bytes("va v2"), pages=[str(item.pk)])
    _workflow_action(world, "reject")
    (use,) = world["editor"].get(reverse("portal_file_versions", args=[lineage])).context["uses"]
    assert use.live == v1 and use.pending.version_number == 2 and use.pending_state == "rejected"
    assert _body(world["partner"].get(url)) == _bytes(v1)


def test_a_refused_file_shows_the_error_and_leaves_nothing(world):
    before = set(PortalDocument.objects.values_list("pk", flat=True))
    response = _upload(world["editor"], world["lineage"], b"<html><script>alert(1)</script></html>")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert set(PortalDocument.objects.values_list("pk", flat=True)) == before
    assert Page.objects.get(pk=world["item"].pk).specific.current_workflow_state is None


def test_unchecked_items_and_no_submit_make_no_revision_or_a_draft_only(world):
    item, lineage = world["item"], world["lineage"]
    revisions = item.revisions.count()
    response = _upload(world["editor"], lineage, make_pdf_bytes("va v2"), submit_for_approval="")
    assert response.status_code == 302
    assert item.revisions.count() == revisions  # no item chosen: history only
    v2 = PortalDocument.objects.get(lineage=lineage, version_number=2)
    response = world["editor"].post(
        reverse("portal_file_version_adopt", args=[lineage, v2.pk]), {"pages": [str(item.pk)]}
    )
    assert response.status_code == 302
    (use,) = world["editor"].get(reverse("portal_file_versions", args=[lineage])).context["uses"]
    assert (use.pending, use.pending_state) == (v2, "draft")


def test_restore_adds_a_new_version_and_submits_it(world):
    item, v1, lineage = world["item"], world["v1"], world["lineage"]
    v2 = document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    url = reverse("portal_file_version_restore", args=[lineage, v1.pk])
    assert world["editor"].get(url).status_code == 200
    response = world["editor"].post(url, {"pages": [str(item.pk)], "submit_for_approval": "on"})
    assert response.status_code == 302
    v3 = PortalDocument.objects.get(lineage=lineage, version_number=3)
    assert v3.rollback_of == v1 and v3.sha256 == v1.sha256 and v3.pk != v2.pk
    history = world["editor"].get(reverse("portal_file_versions", args=[lineage]))
    assert "Restores v1" in history.content.decode()
    assert Page.objects.get(pk=item.pk).specific.current_workflow_state is not None


def test_staff_download_any_version(world):
    v1, lineage = world["v1"], world["lineage"]
    v2 = document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    for version in (v1, v2):
        response = world["editor"].get(
            reverse("portal_file_version_download", args=[lineage, version.pk])
        )
        assert response.status_code == 200 and _body(response) == _bytes(version)


def test_delete_is_for_superusers_refused_in_use_and_removes_an_unused_file(
    world, django_capture_on_commit_callbacks
):
    v1, lineage = world["v1"], world["lineage"]
    v2 = document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    # Editors may not (Wagtail answers a refusal in its admin with a redirect to its home).
    denied = reverse("portal_file_version_delete", args=[lineage, v2.pk])
    assert world["editor"].get(denied).status_code in (302, 403)
    response = world["editor"].post(denied)
    assert response.status_code in (302, 403) and response.get("Location") != reverse(
        "portal_file_versions", args=[lineage]
    )
    assert PortalDocument.objects.filter(pk=v2.pk).exists()

    in_use = world["admin"].post(
        reverse("portal_file_version_delete", args=[lineage, v1.pk]), follow=True
    )
    assert PortalDocument.objects.filter(pk=v1.pk).exists()
    assert "is not deleted" in in_use.content.decode()

    url = reverse("portal_file_version_delete", args=[lineage, v2.pk])
    assert world["admin"].get(url).status_code == 200
    storage, name = v2.file.storage, v2.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = world["admin"].post(url)
    assert response.status_code == 302
    # A tombstone stays (the number is never reused); it leaves the history, its file is gone.
    assert not document_versions(lineage).filter(pk=v2.pk).exists()
    assert PortalDocument.objects.get(pk=v2.pk).deleted_at is not None
    assert not storage.exists(name)
    assert world["admin"].get(url).status_code == 404  # nothing left to delete


def test_partners_reach_none_of_the_admin_views(world):
    v1, lineage = world["v1"], world["lineage"]
    urls = [
        reverse("portal_file_versions", args=[lineage]),
        reverse("portal_file_version_add", args=[lineage]),
        reverse("portal_file_version_adopt", args=[lineage, v1.pk]),
        reverse("portal_file_version_restore", args=[lineage, v1.pk]),
        reverse("portal_file_version_download", args=[lineage, v1.pk]),
        reverse("portal_file_version_delete", args=[lineage, v1.pk]),
    ]
    for url in urls:
        assert world["partner"].get(url).status_code in (302, 403, 404), url
        assert world["partner"].post(url).status_code in (302, 403, 404), url
    assert PortalDocument.objects.filter(lineage=lineage).count() == 1


def test_the_document_edit_form_no_longer_replaces_the_file(world):
    v1 = world["v1"]
    url = reverse("wagtaildocs:edit", args=[v1.pk])
    page = world["editor"].get(url)
    assert page.status_code == 200
    assert "file" not in page.context["form"].fields
    html = page.content.decode()
    assert reverse("portal_file_version_add", args=[v1.lineage]) in html
    name = v1.file.name
    response = world["editor"].post(
        url,
        {
            "title": "Renamed",
            "collection": v1.collection_id,
            "file": SimpleUploadedFile("other.pdf", make_pdf_bytes("other")),
        },
    )
    assert response.status_code == 302
    v1.refresh_from_db()
    assert (v1.title, v1.file.name) == ("Renamed", name)


def test_listing_and_chooser_show_each_file_once(world):
    v1 = world["v1"]
    v2 = document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    listing = world["editor"].get(reverse("wagtaildocs:index"))
    shown = {doc.pk for doc in listing.context["documents"]}
    assert v2.pk in shown and v1.pk not in shown
    assert reverse("portal_file_versions", args=[v1.lineage]) in listing.content.decode()
    for url in ("wagtaildocs:index", "wagtaildocs:index_results"):
        searched = world["editor"].get(reverse(url), {"q": "VA datasheet"})
        assert searched.status_code == 200
        assert {doc.pk for doc in searched.context["documents"]} == {v2.pk}
    for params in ({}, {"q": "VA datasheet"}):
        chooser = world["editor"].get(reverse("wagtaildocs_chooser:choose"), params)
        assert chooser.status_code == 200
        chosen = {doc.pk for doc in chooser.context["results"]}
        assert v2.pk in chosen and v1.pk not in chosen


def test_the_page_editor_files_tab_shows_live_and_newest(world):
    item, v1 = world["item"], world["v1"]
    document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    html = world["editor"].get(reverse("wagtailadmin_pages:edit", args=[item.pk])).content.decode()
    assert "Newest uploaded" in html and reverse("portal_file_versions", args=[v1.lineage]) in html


def test_the_history_makes_the_same_queries_for_one_version_or_many(world, settings):
    from kb import version_admin_views as admin_views

    v1, lineage = world["v1"], world["lineage"]
    url = reverse("portal_file_versions", args=[lineage])
    world["editor"].get(url)  # warm caches (principal, site)
    with CaptureQueriesContext(connection) as one:
        assert world["editor"].get(url).status_code == 200
    for n in range(2, 8):
        document_version_add(v1, name=f"va-{n}.pdf", content=make_pdf_bytes(f"va v{n}"))
    admin_views.VERSIONS_PER_PAGE, saved = 5, admin_views.VERSIONS_PER_PAGE
    try:
        with CaptureQueriesContext(connection) as many:
            response = world["editor"].get(url, {"p": 2})
    finally:
        admin_views.VERSIONS_PER_PAGE = saved
    assert response.status_code == 200 and len(response.context["versions"]) == 2
    assert len(many) <= len(one), [q["sql"] for q in many.captured_queries]


@pytest.mark.s3
def test_deleting_a_version_removes_its_object_from_its_regional_bucket(
    portal, django_capture_on_commit_callbacks
):
    """The S3 leg (.ci/run: `-m s3` against Ceph with a two-region bucket map)."""
    import json
    import os

    from botocore.exceptions import ClientError

    from files.tests.test_s3_storage import s3_client
    from kb.services import Audience
    from permissions.tests.factories import RegionFactory

    if not (os.environ.get("S3_ENDPOINT_URL") and os.environ.get("S3_BUCKET")):
        pytest.skip("no S3 server (set S3_ENDPOINT_URL and S3_BUCKET, or run .ci/ceph.sh run ...)")
    regions = json.loads(os.environ.get("PORTAL_STORAGE_REGIONS") or "{}")
    if "emea" not in regions:
        pytest.skip("no emea bucket in PORTAL_STORAGE_REGIONS")
    page = make_item(
        key="s3-va",
        audience=Audience(regions=[RegionFactory(key="emea")]),
        files=[FileSpec(name="va-eu.pdf", content=make_pdf_bytes("eu v1"))],
    )
    v1 = page.attachments.get().document
    v2 = document_version_add(v1, name="va-eu-2.pdf", content=make_pdf_bytes("eu v2"))
    # A new version is stored in the bucket of its file's region, like the first one.
    assert v2.file.name.startswith("regions/emea/documents/")
    key = v2.file.name.removeprefix("regions/emea/")
    bucket = regions["emea"]["bucket"]
    s3_client().head_object(Bucket=bucket, Key=key)

    admin = _login(UserFactory(email="root-s3@vendor.example", is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("portal_file_version_delete", args=[v1.lineage, v2.pk]))
    assert response.status_code == 302
    # A tombstone stays (the number is never reused; docs/file-versions.md); its object goes.
    assert not document_versions(v1.lineage).filter(pk=v2.pk).exists()
    assert PortalDocument.objects.get(pk=v2.pk).deleted_at is not None
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=bucket, Key=key)
    # The version in use stays, in its bucket.
    s3_client().head_object(Bucket=bucket, Key=v1.file.name.removeprefix("regions/emea/"))


def test_wagtails_own_document_delete_is_the_checked_delete_version(world):
    v1, lineage = world["v1"], world["lineage"]
    v2 = document_version_add(v1, name="va-2.pdf", content=make_pdf_bytes("va v2"))
    response = world["editor"].get(reverse("wagtaildocs:delete", args=[v2.pk]), follow=True)
    assert response.redirect_chain[0][0] == reverse(
        "portal_file_version_delete", args=[lineage, v2.pk]
    )
    assert PortalDocument.objects.filter(pk=v2.pk).exists()
    # The listing's bulk delete: refused to editors, and to anyone for a version in use.
    bulk = reverse("wagtail_bulk_action", args=["files", "portaldocument", "delete"])
    for client, document in ((world["editor"], v2), (world["admin"], v1)):
        client.post(f"{bulk}?id={document.pk}")
        assert PortalDocument.objects.filter(pk=document.pk).exists()
    world["admin"].post(f"{bulk}?id={v2.pk}")
    assert not PortalDocument.objects.filter(pk=v2.pk).exists()


def test_times_are_read_and_shown_in_the_editors_time_zone(world):
    from datetime import UTC, datetime

    from accounts.models import User

    User.objects.filter(email="eva@vendor.example").update(time_zone="Europe/Berlin")
    response = _upload(
        world["editor"],
        world["lineage"],
        make_pdf_bytes("va v2"),
        go_live_at="2099-12-24 10:00",
        expire_at="2099-12-31 23:00",
    )
    assert response.status_code == 302
    v2 = PortalDocument.objects.get(lineage=world["lineage"], version_number=2)
    assert v2.go_live_at == datetime(2099, 12, 24, 9, 0, tzinfo=UTC)
    assert v2.expire_at == datetime(2099, 12, 31, 22, 0, tzinfo=UTC)
    html = world["editor"].get(reverse("portal_file_versions", args=[world["lineage"]]))
    assert "CET" in html.content.decode()


def test_a_marketing_assets_master_document_gets_versions_too(world):
    from kb.models import MarketingAssetPage
    from kb.services import document_create

    master = document_create(name="va-master.pdf", content=make_pdf_bytes("m1"), title="Master")
    asset = make_item(
        key="va-asset",
        kind="marketing_asset",
        extra={"master_document": master, "asset_kind": "banner"},
    )
    (use,) = world["editor"].get(reverse("portal_file_versions", args=[master.pk])).context["uses"]
    assert use.page.pk == asset.pk and use.live == master
    response = _upload(world["editor"], master.pk, make_pdf_bytes("m2"), pages=[str(asset.pk)])
    assert response.status_code == 302
    v2 = PortalDocument.objects.get(lineage=master.pk, version_number=2)
    assert MarketingAssetPage.objects.get(pk=asset.pk).master_document == master  # still live
    (use,) = world["editor"].get(reverse("portal_file_versions", args=[master.pk])).context["uses"]
    assert (use.live, use.pending, use.pending_state) == (master, v2, "in_moderation")
    html = world["editor"].get(reverse("wagtailadmin_pages:edit", args=[asset.pk])).content.decode()
    assert "Newest uploaded" in html and reverse("portal_file_versions", args=[master.pk]) in html
