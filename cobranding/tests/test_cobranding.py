"""Co-brand renders (cobranding): the render over HTTP (POST → status page → stamped download),
caching by key, the policy over HTTP, residency of the stored file, and the S3 leg."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from cobranding import engine
from cobranding.models import CobrandIssue, CobrandRender
from cobranding.services import NotCobrandable, cobrand_request, cobranded_file
from kb.models import DownloadEvent
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.models import PartnerOrganization
from permissions.tests.factories import MembershipFactory, RegionFactory
from tests.fixtures import racing

from .helpers import (
    BLUE,
    PRIMARY,
    RED,
    bump_brand_kit,
    make_asset,
    make_image,
    make_org,
    partner_client,
)

pytestmark = pytest.mark.django_db


def _open(render) -> Image.Image:
    with render.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def _near(pixel, color, tolerance=30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


def _files(org) -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob(f"cobrand/{org.key}/**/*") if p.is_file()}


# ------------------------------------------------------------------------------- the render


@pytest.mark.usefixtures("local_storage")
def test_default_layout_puts_logo_and_contact_on_a_band_in_the_primary_colour(portal):
    asset, org = make_asset("render-png"), make_org()
    render = cobrand_request(asset, org)
    assert render.status == "ready" and render.is_ready and render.error == ""
    image = _open(render).convert("RGB")
    assert image.size == (400, 300) and _open(render).format == "PNG"
    assert render.file.name.endswith(".png")
    assert image.getpixel((10, 10)) == RED  # the master above the band is untouched
    # The band (bottom of the image) is in the primary colour, the logo (blue) on its end side.
    assert _near(image.getpixel((2, 298)), PRIMARY)
    band = image.crop((0, 200, 400, 300))
    assert any(_near(p, BLUE, 40) for p in band.get_flattened_data())
    assert not any(_near(p, BLUE, 40) for p in image.crop((0, 0, 400, 150)).get_flattened_data())
    # The object's name is not guessable: a random folder under the organisation's.
    assert re.fullmatch(rf"cobrand/{org.key}/[\w-]{{20,}}/render-png\.png", render.file.name)


@pytest.mark.usefixtures("local_storage")
def test_a_jpeg_master_stays_a_jpeg(portal):
    render = cobrand_request(make_asset("jpeg", fmt="JPEG", size=(600, 400)), make_org())
    image = _open(render)
    assert render.file.name.endswith(".jpg") and image.format == "JPEG"
    assert image.size == (600, 400)


# ------------------------------------------------------------------------------- caching


@pytest.mark.usefixtures("local_storage")
def test_the_same_inputs_reuse_the_render_and_any_change_renders_afresh(
    portal, monkeypatch, django_capture_on_commit_callbacks
):
    asset, org = make_asset("cached"), make_org()
    first = cobrand_request(asset, org)

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr("cobranding.services.render_master", no_render)
    assert cobrand_request(asset, org).pk == first.pk
    # Many downloads, one render: each its own issue (token).
    tokens = {cobranded_file(first, user=None).token for _ in range(3)}
    assert len(tokens) == 3 and CobrandIssue.objects.filter(render=first).count() == 3
    monkeypatch.undo()

    # The brand kit changes (its version): a new render; the old row goes now, its object after
    # the commit; its issues stay (identify must still work).
    bump_brand_kit(org, contact_phone="+49 30 999")
    with django_capture_on_commit_callbacks(execute=True):
        second = cobrand_request(asset, org)
    assert second.pk != first.pk and second.brand_kit_version == first.brand_kit_version + 1
    assert list(CobrandRender.objects.values_list("pk", flat=True)) == [second.pk]
    assert not default_storage.exists(first.file.name)
    assert CobrandIssue.objects.filter(token__in=tokens, render=None).count() == 3

    # A new published revision that does not touch the master: the same render.
    asset.save_revision().publish()
    assert cobrand_request(asset, org).pk == second.pk
    # A new master image goes live: a new render.
    asset.refresh_from_db()
    asset.master_image = make_image("cached-2", color=(10, 200, 10))
    asset.save_revision().publish()
    third = cobrand_request(asset, org)
    assert third.pk != second.pk and third.master_id == asset.master_image_id


@pytest.mark.usefixtures("local_storage")
def test_a_failed_row_write_leaves_no_object_and_says_so(portal, monkeypatch):
    asset, org = make_asset("atomic"), make_org()
    before = _files(org)

    def fail(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr("cobranding.services._mark_ready", fail)
    render = cobrand_request(asset, org)
    assert render.status == "failed" and "try again" in render.error
    assert _files(org) == before


@pytest.mark.usefixtures("local_storage")
def test_two_requests_racing_for_one_render_end_with_one_row(portal, monkeypatch):
    asset, org = make_asset("race"), make_org()
    first = cobrand_request(asset, org)
    files = _files(org)
    # The second request looked before the first one's row was committed.
    monkeypatch.setattr("cobranding.services._stored_render", lambda key: None)
    second = cobrand_request(asset, org)
    assert second.pk == first.pk and CobrandRender.objects.count() == 1
    assert _files(org) == files


@pytest.mark.usefixtures("local_storage")
def test_items_without_a_master_cannot_be_cobranded(portal):
    from kb.services import document_create

    org = make_org()
    with pytest.raises(NotCobrandable):
        cobrand_request(make_item(key="sheet"), org)
    with pytest.raises(NotCobrandable):
        cobrand_request(make_asset("no-cb", co_brandable=False), org)
    pptx = document_create(name="deck.docx", content=_docx(), title="Deck")
    deck = make_item(
        key="deck", kind="marketing_asset", extra={"master_document": pptx, "co_brandable": True}
    )
    with pytest.raises(NotCobrandable, match="DOCX file: only PDF documents and images"):
        cobrand_request(deck, org)
    assert not CobrandRender.objects.exists()


def _docx() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


# ----------------------------------------------------------------------- policy over HTTP


@pytest.mark.usefixtures("local_storage")
def test_partner_cobrands_with_the_form_then_downloads_a_stamped_copy(portal):
    asset, org = make_asset("http-cb"), make_org()
    user = MembershipFactory(organization=org).user
    # The real form with CSRF enforced: no JavaScript needed.
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    html = client.get(asset.url).content.decode()
    action = reverse("cobranding:cobrand", args=[asset.pk])
    assert f'action="{action}"' in html and "Co-brand" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    render = CobrandRender.objects.get()
    assert render.organization == org and render.item_id == asset.pk
    status_url = reverse("cobranding:cobrand_status", args=[asset.pk, render.pk])
    assert response["Location"] == status_url
    page = client.get(status_url)
    assert page.status_code == 200 and 'data-state="ready"' in page.content.decode()
    assert 'http-equiv="refresh"' not in page.content.decode()  # ready: no more reloading
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    assert f'href="{download}"' in page.content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{asset.slug}-{org.key}.png"'
    content = response.content
    assert content.startswith(b"\x89PNG")
    # Stamped with this download's token, pixels untouched.
    issue = CobrandIssue.objects.get()
    assert engine.read_stamp(content) == issue.token
    assert (issue.user, issue.user_email, issue.organization_key) == (user, user.email, org.key)
    with render.file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read())).convert("RGB").tobytes()
    assert Image.open(io.BytesIO(content)).convert("RGB").tobytes() == stored
    # Recorded as a download of the item (the master image has no file versions).
    event = DownloadEvent.objects.get(user=user)
    assert (event.item_id, event.document_id, event.lineage) == (asset.pk, None, None)
    assert event.title_seen == asset.title
    # The item page now offers the ready copy beside the button.
    assert f'href="{status_url}"' in client.get(asset.url).content.decode()
    # Again: the same render (no second row); a second download gets another token.
    assert client.post(action, {"csrfmiddlewaretoken": token}).status_code == 303
    assert CobrandRender.objects.count() == 1
    assert engine.read_stamp(client.get(download).content) not in (None, issue.token)


@pytest.mark.usefixtures("local_storage")
def test_a_pending_render_shows_preparing_then_the_download(portal, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from cobranding.services import render_run

    asset, org = make_asset("pending"), make_org()
    client = partner_client(org)
    response = client.post(reverse("cobranding:cobrand", args=[asset.pk]))
    render = CobrandRender.objects.get()
    assert render.status == "pending" and not render.file
    html = client.get(response["Location"]).content.decode()
    assert "Preparing your co-branded copy" in html
    assert '<meta http-equiv="refresh" content="2">' in html
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    assert client.get(download).status_code == 404  # nothing to download yet
    # Asking again while pending: the same render, no second job's worth of rows.
    client.post(reverse("cobranding:cobrand", args=[asset.pk]))
    assert CobrandRender.objects.count() == 1
    assert render_run(render.pk) == "ready"  # the worker
    render.refresh_from_db()
    html = client.get(response["Location"]).content.decode()
    assert 'data-state="ready"' in html and "http-equiv" not in html
    assert client.get(
        reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    ).content.startswith(b"\x89PNG")


@pytest.mark.usefixtures("local_storage")
def test_a_partner_can_only_cobrand_for_their_own_organisation(portal):
    asset = make_asset("own-org")
    org, other = make_org(), make_org()
    client, other_client = partner_client(org), partner_client(other)
    # Naming another organisation in the request changes nothing: it is never read.
    response = client.post(
        reverse("cobranding:cobrand", args=[asset.pk]), {"organization": other.key, "org": other.pk}
    )
    assert response.status_code == 303
    render = CobrandRender.objects.get()
    assert render.organization == org
    # Another organisation's render is not there for them (404, not 403), nor its status.
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    status = reverse("cobranding:cobrand_status", args=[asset.pk, render.pk])
    assert other_client.get(download).status_code == 404
    assert other_client.get(status).status_code == 404
    assert client.get(download).status_code == 200
    assert client.get(status).status_code == 200
    # A wrong file name or item in the URL: 404.
    wrong = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, "x.png"])
    assert client.get(wrong).status_code == 404
    sheet = make_item(key="other-item")
    wrong = reverse("cobranding:cobrand_download", args=[sheet.pk, render.pk, render.filename])
    assert client.get(wrong).status_code == 404
    assert CobrandIssue.objects.count() == 1  # only the one real download was issued


@pytest.mark.usefixtures("local_storage")
def test_hidden_items_and_non_partners_get_404(portal, django_user_model):
    far = RegionFactory(key="far")
    org = make_org()
    client = partner_client(org)
    hidden = make_asset("hidden-cb", audience=Audience(regions=[far]))
    assert client.post(reverse("cobranding:cobrand", args=[hidden.pk])).status_code == 404
    assert not CobrandRender.objects.exists()

    asset = make_asset("later-hidden")
    assert client.post(reverse("cobranding:cobrand", args=[asset.pk])).status_code == 303
    render = CobrandRender.objects.get()
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    status = reverse("cobranding:cobrand_status", args=[asset.pk, render.pk])
    staff = Client()
    staff.force_login(
        django_user_model.objects.create_superuser(email="ed@x.example", password="x")
    )
    for outsider in (Client(), staff):
        assert outsider.get(download).status_code == 404
        assert outsider.get(status).status_code == 404
    # The item is restricted afterwards: its render is hidden with it.
    asset.audience_regions = [far]
    asset.save_revision().publish()
    assert client.get(download).status_code == 404
    assert client.get(status).status_code == 404
    assert client.post(reverse("cobranding:cobrand", args=[asset.pk])).status_code == 404

    visible = make_asset("for-others")
    url = reverse("cobranding:cobrand", args=[visible.pk])
    assert Client().post(url).status_code == 404  # anonymous
    assert staff.post(url).status_code == 404  # staff have no brand kit
    assert url not in staff.get(visible.url).content.decode()
    suspended = partner_client(make_org(status=PartnerOrganization.Status.SUSPENDED))
    assert suspended.post(url).status_code == 404
    assert client.get(url).status_code == 405  # POST only
    not_cobrandable = make_asset("not-cb", co_brandable=False)
    assert client.post(reverse("cobranding:cobrand", args=[not_cobrandable.pk])).status_code == 404
    assert "Co-brand</button>" not in client.get(not_cobrandable.url).content.decode()
    assert CobrandRender.objects.count() == 1
    assert not CobrandIssue.objects.exists()


# ------------------------------------------------------------------------------- residency

REGIONS = {"emea": {"bucket": "portal-emea"}, "apac": {"bucket": "portal-apac"}}


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.usefixtures("local_storage")
def test_renders_live_in_the_organisations_region_and_follow_it(
    portal, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_STORAGE_REGIONS = REGIONS
    emea = RegionFactory(key="emea")
    dach, apac = RegionFactory(key="dach", parent=emea), RegionFactory(key="apac")
    org = make_org(region=dach)
    render = cobrand_request(make_asset("resident"), org)
    assert re.fullmatch(rf"regions/emea/cobrand/{org.key}/[\w-]+/resident\.png", render.file.name)
    assert "0 misplaced" in _run("storage_residency")

    org.region = apac
    org.save()
    report = _run("storage_residency")
    assert f"co-brand render {render.pk} of {org.key}" in report
    assert "is in emea, must be in apac" in report
    old = render.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert "MOVED" in _run("storage_residency", "--move")
    render.refresh_from_db()
    assert render.file.name.startswith(f"regions/apac/cobrand/{org.key}/")
    assert default_storage.exists(render.file.name) and not default_storage.exists(old)

    # The sweeper knows renders: the render's file is referenced, a stray one is an orphan.
    stray = Path(settings.MEDIA_ROOT) / f"regions/apac/cobrand/{org.key}/stray.png"
    stray.write_bytes(b"x")
    os.utime(stray, (1_000_000_000, 1_000_000_000))
    report = _run("storage_orphans")
    assert f"ORPHAN regions/apac/cobrand/{org.key}/stray.png" in report
    assert render.file.name not in report
    default_storage.delete(render.file.name)
    assert f"MISSING cobranding.CobrandRender {render.pk}" in _run("storage_orphans")


# ------------------------------------------------------------------------------- S3 leg


@pytest.mark.s3
@pytest.mark.skipif(
    not (os.environ.get("S3_ENDPOINT_URL") and os.environ.get("S3_BUCKET")),
    reason="no S3 server (set S3_ENDPOINT_URL and S3_BUCKET, or run .ci/ceph.sh run ...)",
)
def test_render_of_an_emea_organisation_goes_to_the_emea_bucket(portal):
    from botocore.exceptions import ClientError

    from files.tests.test_s3_storage import s3_client

    regions = json.loads(os.environ.get("PORTAL_STORAGE_REGIONS") or "{}")
    if "emea" not in regions:
        pytest.skip("no emea bucket in PORTAL_STORAGE_REGIONS")
    org = make_org(region=RegionFactory(key="emea"))
    asset = make_asset("s3-cobrand")
    client = partner_client(org)
    response = client.post(reverse("cobranding:cobrand", args=[asset.pk]))
    assert response.status_code == 303
    render = CobrandRender.objects.get()
    assert render.file.name.startswith(f"regions/emea/cobrand/{org.key}/")
    key = render.file.name.removeprefix("regions/emea/")
    s3_client().head_object(Bucket=regions["emea"]["bucket"], Key=key)
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=settings.PORTAL_S3["bucket"], Key=key)
    # Each download is stamped with its own token, so it is streamed (never a presigned URL
    # to the unstamped object).
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    response = client.get(download)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert engine.read_stamp(response.content) == CobrandIssue.objects.get().token


@pytest.mark.usefixtures("local_storage")
def test_a_lost_job_is_enqueued_again_and_a_failing_store_fails_in_words(portal, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    asset, org = make_asset("lost-job"), make_org()
    render = cobrand_request(asset, org)
    assert render.status == "pending"
    # Fresh: asked again, it is simply waited for.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert cobrand_request(asset, org).status == "pending"
    # Long pending (the job was lost): asking again enqueues it again.
    CobrandRender.objects.filter(pk=render.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    again = cobrand_request(asset, org)
    assert again.pk == render.pk and again.status == "ready"


@pytest.mark.usefixtures("local_storage")
def test_a_store_that_fails_leaves_a_failed_render_not_a_pending_one(portal, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def down(self, name, content, max_length=None):
        raise OSError("store down")

    asset, org = make_asset("store-down"), make_org()
    monkeypatch.setattr(FileSystemStorage, "save", down)
    render = cobrand_request(asset, org)
    assert render.status == "failed" and "try again" in render.error and not render.file


@pytest.mark.usefixtures("local_storage")
def test_bad_inputs_fail_in_words_and_no_logo_is_not_an_error(portal):
    # A brand kit without a logo: the company name takes the logo's place, no error.
    render = cobrand_request(make_asset("no-logo"), make_org(logo=False))
    assert render.status == "ready", render.error
    # A corrupt master (the stored bytes are not an image): failed, said in words, no object.
    asset, org = make_asset("corrupt"), make_org()
    with default_storage.open(asset.master_image.file.name, "wb") as handle:
        handle.write(b"this is not a PNG")
    before = _files(org)
    render = cobrand_request(asset, org)
    assert render.status == "failed" and not render.file
    assert render.error.startswith("This asset cannot be co-branded at the moment:")
    assert _files(org) == before
    # The master's file is gone from the store: failed, the vendor is to be told.
    gone, org2 = make_asset("gone"), make_org()
    default_storage.delete(gone.master_image.file.name)
    render = cobrand_request(gone, org2)
    assert render.status == "failed" and "missing" in render.error


# ------------------------------------------------------------ several workers (PostgreSQL)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent connections: PostgreSQL"
)


@pytest.fixture
def counted_renders(monkeypatch):
    """The real ``render_master``, counted, and slow enough (0.3 s) for racers to overlap."""
    from cobranding import services

    calls, real = [], services.render_master

    def render_master(**kwargs):
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return real(**kwargs)

    monkeypatch.setattr(services, "render_master", render_master)
    return calls


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("local_storage")
def test_requests_racing_for_one_version_triple_make_one_render(
    committed_portal, counted_renders, settings
):
    """Six partners' requests at once (each its own connection): one row, one render, one file."""
    asset, org = make_asset("race-asset"), make_org()
    renders = racing(6, lambda: cobrand_request(asset, org).pk)
    assert len(set(renders)) == 1 and CobrandRender.objects.count() == 1
    assert len(counted_renders) == 1 and len(_files(org)) == 1
    assert CobrandRender.objects.get().status == "ready"


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("local_storage")
def test_the_same_render_job_run_by_several_workers_at_once_renders_once(
    committed_portal, counted_renders, settings
):
    """The render task delivered twice (a retry enqueued while the first run still worked, two
    workers): the render's advisory lock lets one run make it; the others leave it to that one."""
    from cobranding.services import render_run

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    asset, org = make_asset("race-job"), make_org()
    render = cobrand_request(asset, org)
    assert render.status == "pending" and not counted_renders
    outcomes = racing(4, lambda: render_run(render.pk))
    assert sorted(outcomes) == ["pending", "pending", "pending", "ready"]
    assert len(counted_renders) == 1 and len(_files(org)) == 1
    assert render_run(render.pk) == "ready" and len(counted_renders) == 1  # made already
