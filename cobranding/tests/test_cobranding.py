"""Co-brand renders (cobranding): the Pillow render, caching by source fingerprint, the
policy over HTTP (POST form, download), residency of the stored file, and the S3 leg."""

from __future__ import annotations

import io
import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.images import ImageFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from cobranding.models import CobrandRender
from cobranding.render import render_cobranded_image
from cobranding.services import NotCobrandable, cobrand_render_ensure
from files.models import PortalImage
from kb.models import DownloadEvent
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.models import PartnerOrganization
from permissions.services import organization_set_logo
from permissions.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db

RED, BLUE, PRIMARY, WHITE = (200, 30, 30), (20, 40, 220), (16, 32, 48), (255, 255, 255)
CONTACT = "Acme Systems GmbH\n+49 30 1234 567\nsales@acme.example"


def _image_bytes(color, size, fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def make_asset(key: str, *, audience=None, co_brandable=True, fmt="PNG", size=(400, 300)):
    data = _image_bytes(RED, size, fmt)
    ext = "jpg" if fmt == "JPEG" else "png"
    image = PortalImage(
        title=key, file=ImageFile(io.BytesIO(data), name=f"{key}.{ext}"), file_size=len(data)
    )
    image.save()
    return make_item(
        key=key,
        kind="marketing_asset",
        audience=audience,
        extra={"master_image": image, "co_brandable": co_brandable, "asset_kind": "banner"},
    )


def make_org(region=None, **kwargs) -> PartnerOrganization:
    org = OrganizationFactory.create(
        region=region or RegionFactory(),
        contact_block=CONTACT,
        primary_color="#102030",
        secondary_color="#ffffff",
        **kwargs,
    )
    organization_set_logo(organization=org, name="logo.png", content=_image_bytes(BLUE, (80, 40)))
    return org


def partner_client(org) -> Client:
    client = Client()
    client.force_login(MembershipFactory.create(organization=org).user)
    return client


def _open(render) -> Image.Image:
    with render.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def _near(pixel, color, tolerance=30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


# ------------------------------------------------------------------------------- the render


@pytest.mark.usefixtures("local_storage")
def test_render_puts_logo_in_the_corner_and_contact_lines_on_a_band(portal):
    asset, org = make_asset("render-png"), make_org()
    render = cobrand_render_ensure(item=asset, organization=org)
    image = _open(render).convert("RGB")
    assert image.size == (400, 300) and _open(render).format == "PNG"
    assert render.file.name.endswith(".png")
    assert image.getpixel((10, 10)) == RED  # the master above the band is untouched
    # The logo (80x40) sits in the bottom-right corner, inside the margin (300 // 40 = 7).
    assert image.getpixel((400 - 7 - 40, 300 - 7 - 20)) == BLUE
    assert not _near(image.getpixel((400 - 7 - 40, 300 - 7 - 60)), BLUE)
    # The band is in the primary colour (235/255 opaque over the master), the text white.
    assert _near(image.getpixel((2, 298)), PRIMARY)
    text_area = image.crop((7, 246, 290, 296))
    white = sum(1 for pixel in text_area.get_flattened_data() if _near(pixel, WHITE, 40))
    assert white > 100


def test_a_jpeg_master_stays_a_jpeg_and_no_logo_means_lines_only():
    master = io.BytesIO(_image_bytes(RED, (600, 400), "JPEG"))
    content, ext = render_cobranded_image(
        master, logo=None, lines=["Only text"], primary="#102030", secondary="#ffffff"
    )
    image = Image.open(io.BytesIO(content))
    assert ext == ".jpg" and image.format == "JPEG" and image.size == (600, 400)
    assert _near(image.convert("RGB").getpixel((598, 398)), PRIMARY, 40)


# ------------------------------------------------------------------------------- caching


@pytest.mark.usefixtures("local_storage")
def test_a_second_request_reuses_the_stored_render(
    portal, monkeypatch, django_capture_on_commit_callbacks
):
    asset, org = make_asset("cached"), make_org()
    first = cobrand_render_ensure(item=asset, organization=org)

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr("cobranding.services.render_cobranded_image", no_render)
    assert cobrand_render_ensure(item=asset, organization=org).pk == first.pk
    monkeypatch.undo()

    # The brand kit changes: a new render; the old row goes now, its object after the commit.
    org.contact_block = "New contact"
    org.save()
    with django_capture_on_commit_callbacks(execute=True):
        second = cobrand_render_ensure(item=asset, organization=org)
    assert second.pk != first.pk and second.fingerprint != first.fingerprint
    assert list(CobrandRender.objects.values_list("pk", flat=True)) == [second.pk]
    assert not default_storage.exists(first.file.name)
    # A new published revision of the item: a new render too.
    asset.save_revision().publish()
    asset.refresh_from_db()
    third = cobrand_render_ensure(item=asset, organization=org)
    assert third.fingerprint != second.fingerprint
    assert third.fingerprint.startswith(f"r{asset.live_revision_id}-")


@pytest.mark.usefixtures("local_storage")
def test_a_failed_row_write_leaves_no_object(portal, monkeypatch):
    asset, org = make_asset("atomic"), make_org()
    before = set(Path(settings.MEDIA_ROOT).rglob("cobrand/*/*"))

    def fail(self, *args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(CobrandRender, "save", fail)
    with pytest.raises(RuntimeError):
        cobrand_render_ensure(item=asset, organization=org)
    assert set(Path(settings.MEDIA_ROOT).rglob("cobrand/*/*")) == before


@pytest.mark.usefixtures("local_storage")
def test_two_requests_racing_for_one_render_end_with_one_row_and_no_stray_object(
    portal, monkeypatch
):
    asset, org = make_asset("race"), make_org()
    first = cobrand_render_ensure(item=asset, organization=org)
    files = set(Path(settings.MEDIA_ROOT).rglob(f"cobrand/{org.key}/*"))
    # The second request looked before the first one's row was committed: it renders too.
    monkeypatch.setattr("cobranding.services._stored_render", lambda *args: None)
    second = cobrand_render_ensure(item=asset, organization=org)
    assert second.pk == first.pk and CobrandRender.objects.count() == 1
    assert set(Path(settings.MEDIA_ROOT).rglob(f"cobrand/{org.key}/*")) == files


@pytest.mark.usefixtures("local_storage")
def test_items_without_a_master_image_cannot_be_cobranded(portal):
    org = make_org()
    with pytest.raises(NotCobrandable):
        cobrand_render_ensure(item=make_item(key="sheet"), organization=org)
    with pytest.raises(NotCobrandable):
        cobrand_render_ensure(item=make_asset("no-cb", co_brandable=False), organization=org)


# ----------------------------------------------------------------------- policy over HTTP


@pytest.mark.usefixtures("local_storage")
def test_partner_cobrands_with_the_form_and_downloads_the_render(portal):
    asset, org = make_asset("http-cb"), make_org()
    user = MembershipFactory(organization=org).user
    user.set_password("pass-word-123")
    user.save()
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
    response = client.get(response["Location"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{asset.slug}-{org.key}.png"'
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # Recorded as a download of the item (the master image has no file versions).
    event = DownloadEvent.objects.get(user=user)
    assert (event.item_id, event.document_id, event.lineage) == (asset.pk, None, None)
    assert event.title_seen == asset.title
    # Again: the same render (no second row).
    assert client.post(action, {"csrfmiddlewaretoken": token}).status_code == 303
    assert CobrandRender.objects.count() == 1


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
    # Another organisation's render is not there for them (404, not 403).
    download = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, render.filename])
    assert other_client.get(download).status_code == 404
    assert client.get(download).status_code == 200
    # A wrong file name or item in the URL: 404.
    wrong = reverse("cobranding:cobrand_download", args=[asset.pk, render.pk, "x.png"])
    assert client.get(wrong).status_code == 404
    sheet = make_item(key="other-item")
    wrong = reverse("cobranding:cobrand_download", args=[sheet.pk, render.pk, render.filename])
    assert client.get(wrong).status_code == 404


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
    # The item is restricted afterwards: its render is hidden with it.
    asset.audience_regions = [far]
    asset.save_revision().publish()
    assert client.get(download).status_code == 404
    assert client.post(reverse("cobranding:cobrand", args=[asset.pk])).status_code == 404

    visible = make_asset("for-others")
    url = reverse("cobranding:cobrand", args=[visible.pk])
    assert Client().post(url).status_code == 404  # anonymous
    staff = Client()
    staff.force_login(
        django_user_model.objects.create_superuser(email="ed@x.example", password="x")
    )
    assert staff.post(url).status_code == 404  # staff have no brand kit
    assert "cobranding:cobrand" not in staff.get(visible.url).content.decode()
    assert url not in staff.get(visible.url).content.decode()
    suspended = partner_client(make_org(status=PartnerOrganization.Status.SUSPENDED))
    assert suspended.post(url).status_code == 404
    assert client.get(url).status_code == 405  # POST only
    not_cobrandable = make_asset("not-cb", co_brandable=False)
    assert client.post(reverse("cobranding:cobrand", args=[not_cobrandable.pk])).status_code == 404
    assert "Co-brand</button>" not in client.get(not_cobrandable.url).content.decode()
    assert CobrandRender.objects.count() == 1


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
    render = cobrand_render_ensure(item=make_asset("resident"), organization=org)
    assert render.file.name.startswith(f"regions/emea/cobrand/{org.key}/resident")
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
    assert render.file.name.startswith(f"regions/emea/cobrand/{org.key}/s3-cobrand")
    key = render.file.name.removeprefix("regions/emea/")
    s3_client().head_object(Bucket=regions["emea"]["bucket"], Key=key)
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=settings.PORTAL_S3["bucket"], Key=key)
    # The download is the same exit as item files: a presigned redirect.
    response = client.get(response["Location"])
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]
    with urllib.request.urlopen(response["Location"]) as answer:  # noqa: S310 - local server
        assert answer.read().startswith(b"\x89PNG")
        assert answer.headers["Content-Disposition"].startswith("attachment")
