"""The demo's journey: Anna (Acme) clicks Co-brand on the X1 brochure and downloads a PDF with
Acme's logo and contact block in the template's zones on page 1."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from cobranding.models import CobrandRender, CobrandTemplate
from kb.models import ItemKey

pytestmark = pytest.mark.django_db


def test_anna_cobrands_the_x1_brochure(demo):
    from django.contrib.auth import get_user_model

    item = ItemKey.objects.get(key="demo-x1-brochure").page.specific
    lineage = item.master_document.lineage or item.master_document.pk
    template = CobrandTemplate.objects.get(lineage=lineage)
    assert template.version >= 1
    client = Client()
    client.force_login(get_user_model().objects.get(email="anna@acme.example"))
    page = client.get(item.url).content.decode()
    assert reverse("cobranding:cobrand", args=[item.pk]) in page
    response = client.post(reverse("cobranding:cobrand", args=[item.pk]))
    assert response.status_code == 303
    render = CobrandRender.objects.get(item=item, organization__key="acme")
    assert render.status == "ready", render.error
    assert render.template_version == template.version
    url = reverse("cobranding:cobrand_download", args=[item.pk, render.pk, render.filename])
    assert url in client.get(response["Location"]).content.decode()
    pdf = PdfReader(io.BytesIO(client.get(url).content))
    first = pdf.pages[0].extract_text()
    assert "Friedrichstraße 123" in first  # Acme's contact block, at the bottom of page 1
    assert "Friedrichstraße" not in pdf.pages[1].extract_text()
