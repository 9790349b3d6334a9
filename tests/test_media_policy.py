"""/media/ asks the policies file by file (issue #9, part 6): staff get images and the
documents the document policy allows; co-brand renders and brand-kit logos never (they have
their own checked views: renders for their organisation only, logos for the organisation and
for staff who edit organisations). Over HTTP, against the demo world."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from kb.models import PortalDocument, PortalImage, PortalRendition
from permissions.models import PartnerOrganization

pytestmark = pytest.mark.django_db


def _client(email: str | None) -> Client:
    client = Client()
    if email:
        client.force_login(User.objects.get(email=email))
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def renders(demo):
    from kb.cobranding.models import CobrandRender
    from kb.cobranding.services import cobrand_render_ensure
    from kb.models import MarketingAssetPage

    acme = PartnerOrganization.objects.get(key="acme")
    item = next(
        p for p in MarketingAssetPage.objects.live() if p.co_brandable and p.master_image_id
    )
    cobrand_render_ensure(item=item, organization=acme)
    return list(CobrandRender.objects.select_related("organization"))


@pytest.mark.parametrize("email", ["eva@vendor.example", "admin@vendor.example"])
def test_staff_never_get_renders_or_logos_through_media(renders, email):
    staff = _client(email)
    assert renders
    for render in renders:
        assert staff.get(f"/media/{render.file.name}").status_code == 404
        url = f"/portal/items/{render.item_id}/cobrand/{render.pk}/{render.filename}"
        assert staff.get(url).status_code == 404  # the co-brand policy: staff never
    logos = PartnerOrganization.objects.exclude(logo="")
    assert logos.exists()
    for org in logos:
        assert staff.get(f"/media/{org.logo.name}").status_code == 404


def test_staff_still_get_images_renditions_and_documents_through_media(demo):
    staff = _client("eva@vendor.example")
    image = PortalImage.objects.first()
    rendition = image.get_rendition("max-165x165")
    document = PortalDocument.objects.first()
    for name in (image.file.name, rendition.file.name, document.file.name):
        response = staff.get(f"/media/{name}")
        assert response.status_code == 200, name
        with default_open(name) as handle:
            assert _body(response) == handle.read()
    assert PortalRendition.objects.filter(file=rendition.file.name).exists()
    # A stored name no row points at, and a path outside the media folder: 404.
    assert staff.get("/media/brandkits/unknown.png").status_code == 404
    assert staff.get("/media/../pyproject.toml").status_code == 404


def default_open(name: str):
    from django.core.files.storage import default_storage

    return default_storage.open(name, "rb")


def test_partners_and_anonymous_never_get_media(renders):
    image = PortalImage.objects.first()
    for email in (None, "anna@acme.example"):
        client = _client(email)
        for name in [image.file.name, *(r.file.name for r in renders)]:
            assert client.get(f"/media/{name}").status_code == 404


def test_a_render_only_for_its_own_organisation(renders):
    anna = _client("anna@acme.example")
    for render in renders:
        url = f"/portal/items/{render.item_id}/cobrand/{render.pk}/{render.filename}"
        expected = 200 if render.organization.key == "acme" else 404
        assert anna.get(url).status_code == expected


def test_logo_view_follows_the_brand_kit_policy(demo):
    acme = PartnerOrganization.objects.get(key="acme")
    other = PartnerOrganization.objects.exclude(pk=acme.pk).exclude(logo="").first()
    assert acme.logo and other
    url = f"/portal/organizations/{acme.pk}/logo/"
    with acme.logo.open("rb") as handle:
        logo_bytes = handle.read()
    anna = _client("anna@acme.example")
    response = anna.get(url)
    assert response.status_code == 200
    assert _body(response) == logo_bytes
    assert "private" in response["Cache-Control"]
    assert anna.get(f"/portal/organizations/{other.pk}/logo/").status_code == 404
    assert _client(None).get(url).status_code == 404
    # Staff who edit organisations (superusers, and whoever holds the change permission).
    assert _client("admin@vendor.example").get(url).status_code == 200
    marketer = User.objects.get(email="jiri@vendor.example")
    expected = 200 if marketer.has_perm("permissions.change_partnerorganization") else 404
    assert _client("jiri@vendor.example").get(url).status_code == expected


def test_admin_organisation_form_links_the_logo_to_the_checked_view(demo):
    acme = PartnerOrganization.objects.get(key="acme")
    admin = _client("admin@vendor.example")
    response = admin.get(f"/admin/snippets/permissions/partnerorganization/edit/{acme.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/portal/organizations/{acme.pk}/logo/" in html
    assert f"/media/{acme.logo.name}" not in html
