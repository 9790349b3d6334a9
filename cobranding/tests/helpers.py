"""Factories for co-branding tests: masters (image / PDF with text), organisations with a brand
kit, partner clients."""

from __future__ import annotations

import io

from django.core.files.images import ImageFile
from django.test import Client
from PIL import Image

from files.models import PortalImage
from kb.services import document_create
from kb.tests.factories import make_item
from permissions.models import PartnerOrganization
from permissions.services import organization_set_logo
from permissions.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

RED, BLUE, PRIMARY, WHITE = (200, 30, 30), (20, 40, 220), (16, 32, 48), (255, 255, 255)
CONTACT = {
    "contact_name": "Jürgen Šťastný",
    "contact_phone": "+49 30 1234 567",
    "contact_email": "sales@acme.example",
    "contact_web": "acme.example",
}


def image_bytes(color, size, fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def pdf_bytes(pages: list[str]) -> bytes:
    """A real PDF with one line of extractable text per page (A4)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for text in pages:
        pdf.setFont("Helvetica", 14)
        pdf.drawString(72, 760, text)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def make_image(key: str, *, fmt="PNG", size=(400, 300), color=RED) -> PortalImage:
    data = image_bytes(color, size, fmt)
    ext = "jpg" if fmt == "JPEG" else "png"
    image = PortalImage(
        title=key, file=ImageFile(io.BytesIO(data), name=f"{key}.{ext}"), file_size=len(data)
    )
    image.save()
    return image


def make_asset(key: str, *, audience=None, co_brandable=True, fmt="PNG", size=(400, 300)):
    return make_item(
        key=key,
        kind="marketing_asset",
        audience=audience,
        extra={
            "master_image": make_image(key, fmt=fmt, size=size),
            "co_brandable": co_brandable,
            "asset_kind": "banner",
        },
    )


def make_pdf_asset(key: str, *, pages=("Master page one", "Master page two"), audience=None):
    document = document_create(name=f"{key}.pdf", content=pdf_bytes(list(pages)), title=key)
    item = make_item(
        key=key,
        kind="marketing_asset",
        audience=audience,
        extra={"master_document": document, "co_brandable": True, "asset_kind": "brochure"},
    )
    return item, document


def make_org(region=None, *, logo=True, **kwargs) -> PartnerOrganization:
    fields = {**CONTACT, **kwargs}
    org = OrganizationFactory.create(
        region=region or RegionFactory(),
        contact_block="Acme Systems GmbH\nMain street 1",
        primary_color="#102030",
        secondary_color="#ffffff",
        **fields,
    )
    if logo:
        organization_set_logo(
            organization=org, name="logo.png", content=image_bytes(BLUE, (80, 40))
        )
        org.refresh_from_db()
    return org


def partner_client(org, *, email=None) -> Client:
    client = Client()
    kwargs = {"organization": org}
    if email:
        kwargs["user__email"] = email
    client.force_login(MembershipFactory.create(**kwargs).user)
    return client


def bump_brand_kit(org: PartnerOrganization, **changes) -> None:
    """A brand-kit change as permissions.services makes it: the fields and the version."""
    for name, value in changes.items():
        setattr(org, name, value)
    org.brand_kit_version += 1
    org.save()
