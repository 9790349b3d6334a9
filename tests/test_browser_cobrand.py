"""Co-branding end to end in a real browser (issue #13): a partner admin uploads the
organisation's logo and contact details on the organisation page, opens a PDF marketing asset,
presses "Co-brand", downloads the co-branded PDF, and the file says who it was made for.

Harness: ``tests/browser.py`` (Debian's Chromium through Playwright, a live server sharing the
test's database connection); marker ``browser``, never skipped in CI.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from tests.browser import BROWSER_MARKS, DESKTOP
from tests.browser import shoot as _shoot

pytestmark = BROWSER_MARKS

LOGO_COLOUR = (214, 40, 57)


@pytest.fixture
def cobrand_world(served, settings):
    """Acme (an active Gold reseller) with Markus as its partner admin, and a co-brandable PDF
    brochure whose template puts the logo top right and the contact block at the foot of
    page 1."""
    settings.PORTAL_S3 = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from accounts.tests.factories import UserFactory
    from cobranding import engine
    from cobranding.services import template_save
    from cobranding.tests.helpers import make_pdf_asset
    from kb.services import site_structure_ensure
    from permissions.models import Membership
    from permissions.tests.factories import MembershipFactory, OrganizationFactory

    site_structure_ensure(hostname="localhost", port=80)
    org = OrganizationFactory.create(key="acme", name="Acme GmbH", contact_name="")
    user = UserFactory(email="markus@acme.example", first_name="Markus", preferred_language="en")
    MembershipFactory(user=user, organization=org, role=Membership.Role.ADMIN)
    item, document = make_pdf_asset(
        "x1-brochure", pages=("X1 Edge Router: the brochure", "Technical data")
    )
    template_save(
        kind="document",
        master_id=document.lineage or document.pk,
        layout=engine.Layout(
            logo_zones=(engine.LogoZone(engine.Box(0.62, 0.04, 0.33, 0.1), page=1),),
            text_zones=(
                engine.TextZone(
                    engine.Box(0.06, 0.82, 0.88, 0.12),
                    fields=("name", "contact_name", "contact_phone", "contact_email"),
                    page=1,
                    font_size=12,
                    color="#102030",
                ),
            ),
            pages=(1,),
        ),
    )
    client = Client()
    client.force_login(user)
    return {
        "org": org,
        "user": user,
        "item": item,
        "session": client.cookies["sessionid"].value,
        "url": served,
    }


def _logo_png(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (320, 120), LOGO_COLOUR).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


def test_partner_admin_uploads_a_logo_and_downloads_a_cobranded_pdf(
    browser, cobrand_world, tmp_path
):
    world = cobrand_world
    context = browser.new_context(viewport=DESKTOP, locale="en-US", accept_downloads=True)
    context.add_cookies([{"name": "sessionid", "value": world["session"], "url": world["url"]}])
    page = context.new_page()
    try:
        # 1. The organisation page: logo and contact details, saved.
        response = page.goto(world["url"] + "/portal/account/organization/")
        assert response is not None and response.status == 200
        page.set_input_files("#id_logo", str(_logo_png(tmp_path / "acme-logo.png")))
        page.fill("#id_contact_name", "Jürgen Šťastný")
        page.fill("#id_contact_phone", "+49 30 1234 5678")
        page.fill("#id_contact_email", "vertrieb@acme.example")
        with page.expect_navigation():
            page.click("text=Save the brand kit")
        _shoot(page, "cobrand-organization")
        assert page.locator(".error[role=alert]").count() == 0, page.content()
        world["org"].refresh_from_db()
        assert world["org"].logo and world["org"].contact_name == "Jürgen Šťastný"

        # 2. The PDF asset: "Co-brand", a status page, then the download.
        page.goto(world["url"] + world["item"].url)
        with page.expect_navigation():
            page.click("form.cobrand button[type=submit]")
        _shoot(page, "cobrand-status")
        page.wait_for_selector("[data-state=ready]", timeout=30_000)
        with page.expect_download() as info:
            page.click("a.button[download]")
        download = info.value
        assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
        saved = tmp_path / download.suggested_filename
        download.save_as(str(saved))
    finally:
        context.close()

    # 3. The file: the contact block on page 1 with the master's own text kept, the logo drawn
    # (an image on page 1 only), and an identifier naming Acme, Markus and the brochure.
    content = saved.read_bytes()
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    first, second = (p.extract_text() for p in reader.pages)
    assert "X1 Edge Router: the brochure" in first and "Technical data" in second
    assert "Jürgen Šťastný" in first and "vertrieb@acme.example" in first
    assert "vertrieb@acme.example" not in second
    out = io.StringIO()
    call_command("identify_file", str(saved), "--json", stdout=out)
    record = json.loads(out.getvalue())
    assert record["organization"] == "acme"
    assert record["user"] == "markus@acme.example"
    assert record["item"] == "x1-brochure"
    assert record["version"] == 1
    assert record["rendered_at"].endswith(("+00:00", "Z"))
