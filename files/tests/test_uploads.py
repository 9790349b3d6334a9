"""Every way a file comes in checks it before storing it, and a refusal leaves no object and no row:
the admin's document and image uploads (single and multiple), the brand kit logo (service and
model validation), kb.services.document_create and import_bundle (one bad file refuses the whole
bundle, naming the file)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import Collection

from files.models import PortalDocument, PortalImage
from files.tests import malicious
from files.validation import UploadRejected
from imports.importer import bundle_import
from imports.parsing import BundleError
from kb.models import ItemKey
from kb.services import document_create
from permissions.models import PartnerOrganization
from permissions.services import organization_set_logo
from permissions.tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_storage")]


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def editor_client(client, django_user_model):
    editor = django_user_model.objects.create_superuser(email="eva@vendor.example", password="x")
    client.force_login(editor)
    return client


def _post_document(client, name: str, content: bytes):
    return client.post(
        reverse("wagtaildocs:add"),
        {
            "title": "Upload",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile(name, content),
        },
    )


@pytest.mark.parametrize("label", ["zip-disguised-as-pdf", "pdf-html-polyglot", "exe-as-pdf"])
def test_admin_document_upload_refuses_before_storing(editor_client, label):
    content, name = malicious.malicious_files()[label]
    before = media_files()
    response = _post_document(editor_client, name, content)
    assert response.status_code == 200
    assert (
        name.encode() in response.content
        or b"refused" in response.content
        or (b"disagree" in response.content or b"executable" in response.content)
    )
    assert not PortalDocument.objects.exists()
    assert media_files() == before


def test_admin_document_upload_accepts_and_sanitises(editor_client):
    response = _post_document(editor_client, "Cafe\u0301\u202e.pdf", malicious.pdf())
    assert response.status_code == 302
    document = PortalDocument.objects.get()
    assert document.filename == "Café.pdf"


def test_admin_multiple_image_upload_refuses(editor_client):
    before = media_files()
    response = editor_client.post(
        reverse("wagtailimages:add_multiple"),
        {
            "collection": Collection.get_first_root_node().pk,
            "files[]": SimpleUploadedFile("bomb.png", malicious.png_bomb()),
        },
    )
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert not PortalImage.objects.exists()
    assert media_files() == before
    response = editor_client.post(
        reverse("wagtailimages:add_multiple"),
        {
            "collection": Collection.get_first_root_node().pk,
            "files[]": SimpleUploadedFile("ok.png", malicious.image("PNG")),
        },
    )
    assert response.json()["success"] is True
    assert PortalImage.objects.count() == 1


def test_document_create_refuses_without_row_or_object():
    before = media_files()
    with pytest.raises(UploadRejected, match="executable"):
        document_create(name="setup.pdf", content=malicious.EXE)
    assert not PortalDocument.objects.exists()
    assert media_files() == before


def test_logo_service_and_model_validation():
    org = OrganizationFactory()
    before = media_files()
    with pytest.raises(UploadRejected):
        organization_set_logo(organization=org, name="logo.png", content=malicious.SVG_WITH_SCRIPT)
    org.refresh_from_db()
    assert not org.logo and media_files() == before

    # Admin forms run the model's validators (full_clean) before saving.
    org.logo = SimpleUploadedFile("logo.png", malicious.png_bomb())
    with pytest.raises(ValidationError) as caught:
        org.full_clean()
    assert "logo" in caught.value.message_dict
    assert media_files() == before

    organization_set_logo(organization=org, name="../../My Logo.png", content=malicious.image())
    org = PartnerOrganization.objects.get(pk=org.pk)
    assert org.logo.name.startswith("brandkits/My")
    org.full_clean()  # a stored logo is not re-read


def _bundle(files_a, files_b) -> dict:
    def b64(content: bytes) -> str:
        return base64.b64encode(content).decode()

    return {
        "items": [
            {
                "key": "good-item",
                "kind": "product_sheet",
                "title": "Good",
                "files": [{"name": name, "content_base64": b64(c)} for name, c in files_a],
            },
            {
                "key": "bad-item",
                "kind": "product_sheet",
                "title": "Bad",
                "files": [{"name": name, "content_base64": b64(c)} for name, c in files_b],
            },
        ]
    }


def test_bundle_with_one_bad_file_is_refused_whole(portal):
    before = media_files()
    data = _bundle(
        [("a.pdf", malicious.pdf("a"))],
        [("b.pdf", malicious.pdf("b")), ("evil.pdf", malicious.pdf_with_javascript())],
    )
    with pytest.raises(BundleError) as caught:
        bundle_import(data=data)
    message = str(caught.value)
    assert "evil.pdf" in message and "active content" in message
    assert not ItemKey.objects.exists()
    assert not PortalDocument.objects.exists()
    assert media_files() == before


def _organisation_form(org, **extra) -> dict:
    return {
        "key": org.key,
        "name": org.name,
        "tier": org.tier_id,
        "region": org.region_id,
        "partner_type": org.partner_type_id,
        "country": org.country,
        "status": org.status,
        "primary_color": org.primary_color,
        "secondary_color": org.secondary_color,
        "contact_block": org.contact_block,
        **extra,
    }


def test_admin_logo_upload_is_checked_then_stored_through_the_service(editor_client):
    org = OrganizationFactory()
    url = f"/admin/snippets/permissions/partnerorganization/edit/{org.pk}/"
    before = media_files()

    bad = SimpleUploadedFile("logo.png", malicious.png_bomb())
    response = editor_client.post(url, _organisation_form(org, logo=bad))
    assert response.status_code == 200  # the form comes back with the error
    org.refresh_from_db()
    assert not org.logo and media_files() == before

    good = SimpleUploadedFile("My Logo.png", malicious.image())
    response = editor_client.post(url, _organisation_form(org, logo=good))
    assert response.status_code == 302, response.content[:2000]
    org.refresh_from_db()
    assert org.logo.name.startswith("brandkits/My")
    assert org.logo.name in media_files()

    response = editor_client.post(url, _organisation_form(org, **{"logo-clear": "on"}))
    assert response.status_code == 302, response.content[:2000]
    org.refresh_from_db()
    assert not org.logo
