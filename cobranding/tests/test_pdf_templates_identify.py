"""PDF masters end to end, templates (admin editor, preview, freshness), failed renders in
words, and identifying a downloaded file (``identify_file`` and the admin's "Identify a file")."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.tests.factories import UserFactory
from cobranding import engine
from cobranding.models import CobrandIssue, CobrandRender, CobrandTemplate
from cobranding.services import cobrand_request, template_save
from kb.models import DownloadEvent, ItemKey

from .helpers import CONTACT, make_asset, make_org, make_pdf_asset, partner_client, pdf_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_storage")]

KEYS = {"organization", "user", "item", "version", "rendered_at"}


def _contact_on_page_two(lineage: int, **zone) -> CobrandTemplate:
    layout = engine.Layout(
        logo_zones=(engine.LogoZone(engine.Box(0.05, 0.05, 0.3, 0.1), page=1),),
        text_zones=(
            engine.TextZone(
                engine.Box(0.1, 0.8, 0.8, 0.12),
                fields=("contact_name", "contact_email"),
                page=2,
                font_size=zone.pop("font_size", 12),
                color="#102030",
                **zone,
            ),
        ),
        pages=(1, 2),
    )
    return template_save(kind="document", master_id=lineage, layout=layout)


def _download(client, item) -> tuple[CobrandRender, bytes]:
    response = client.post(reverse("cobranding:cobrand", args=[item.pk]))
    assert response.status_code == 303, response
    render = CobrandRender.objects.get(item=item)
    assert render.status == "ready", render.error
    url = reverse("cobranding:cobrand_download", args=[item.pk, render.pk, render.filename])
    response = client.get(url)
    assert response.status_code == 200
    return render, response.content


def _identify(tmp_path, content: bytes, *args) -> str:
    path = tmp_path / "found.bin"
    path.write_bytes(content)
    out = io.StringIO()
    call_command("identify_file", str(path), *args, stdout=out)
    return out.getvalue()


def test_a_pdf_master_gets_the_contact_on_the_templates_page_and_is_identified(portal, tmp_path):
    item, document = make_pdf_asset("x1-brochure")
    org = make_org()
    client = partner_client(org, email="anna@acme.example")
    assert "Co-brand</button>" in client.get(item.url).content.decode()
    template = _contact_on_page_two(document.lineage or document.pk)
    render, content = _download(client, item)
    assert render.master_kind == "document" and render.template_version == template.version == 1
    assert render.file.name.endswith(".pdf")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    one, two = (page.extract_text() for page in reader.pages)
    assert "Master page one" in one and "Master page two" in two  # vectors/text kept
    assert CONTACT["contact_email"] in two and CONTACT["contact_email"] not in one
    assert CONTACT["contact_name"] in two  # diacritics survive
    # Recorded as a download of the master document's version.
    event = DownloadEvent.objects.get(item_id=item.pk)
    assert (event.document_id, event.version_number) == (document.pk, 1)

    # The identifier round trip: the command reads the token, the database says who.
    record = json.loads(_identify(tmp_path, content, "--json"))
    assert KEYS <= set(record)
    issue = CobrandIssue.objects.get()
    key = ItemKey.objects.get(page_id=item.pk).key
    assert (record["organization"], record["user"], record["item"], record["version"]) == (
        org.key,
        "anna@acme.example",
        key,
        1,
    )
    assert record["token"] == issue.token and record["share_link"] is None
    rendered_at = datetime.fromisoformat(record["rendered_at"])
    assert rendered_at.utcoffset().total_seconds() == 0 and rendered_at == render.rendered_at
    text = _identify(tmp_path, content)
    assert org.key in text and "anna@acme.example" in text
    # The issue outlives the user (GDPR erasure: FK gone, the e-mail snapshot stays).
    issue.user.delete()
    assert json.loads(_identify(tmp_path, content, "--json"))["user"] == "anna@acme.example"


def test_files_without_or_with_an_unknown_identifier_are_refused_clearly(portal, tmp_path):
    with pytest.raises(CommandError, match="No co-brand identifier"):
        _identify(tmp_path, pdf_bytes(["plain"]), "--json")
    forged = engine.stamp(pdf_bytes(["forged"]), "application/pdf", "never-issued-token")
    with pytest.raises(CommandError, match="never issued"):
        _identify(tmp_path, forged, "--json")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("identify_file", str(tmp_path / "missing.pdf"), "--json")


def test_new_master_version_template_change_and_brand_kit_change_render_afresh(
    portal, django_capture_on_commit_callbacks
):
    from files.versions import document_version_add
    from kb.services import attachment_version_propose

    item, document = make_pdf_asset("fresh-pdf")
    org = make_org()
    first = cobrand_request(item, org)
    assert (first.master_version, first.template_version) == (1, 0)
    assert cobrand_request(item, org).pk == first.pk

    # A new version of the master, not yet live: partners still get v1's render.
    v2 = document_version_add(document, name="fresh-pdf.pdf", content=pdf_bytes(["v2", "v2b"]))
    revision = attachment_version_propose(page=item, version=v2)
    assert cobrand_request(item, org).pk == first.pk
    revision.publish()
    item = type(item).objects.get(pk=item.pk)  # as a request loads it
    with django_capture_on_commit_callbacks(execute=True):
        second = cobrand_request(item, org)
    assert second.pk != first.pk and (second.master_id, second.master_version) == (v2.pk, 2)
    assert not CobrandRender.objects.filter(pk=first.pk).exists()

    _contact_on_page_two(document.lineage or document.pk)
    third = cobrand_request(item, org)
    assert third.pk != second.pk and third.template_version == 1
    _contact_on_page_two(document.lineage or document.pk, align="center")
    fourth = cobrand_request(item, org)
    assert fourth.template_version == 2

    org.brand_kit_version += 1
    org.save()
    fifth = cobrand_request(item, org)
    assert fifth.pk != fourth.pk and fifth.brand_kit_version == org.brand_kit_version
    assert CobrandRender.objects.filter(item=item).count() == 1


def test_text_that_cannot_fit_fails_in_words_and_leaves_no_object(portal):
    from pathlib import Path

    from django.conf import settings

    item, document = make_pdf_asset("tight")
    org = make_org(contact_name="Maximilian " * 12)
    _contact_on_page_two(document.lineage or document.pk, font_size=12, min_font_size=10)
    client = partner_client(org)
    response = client.post(reverse("cobranding:cobrand", args=[item.pk]))
    render = CobrandRender.objects.get()
    assert render.status == "failed" and not render.file
    assert "contact name is too long" in render.error and "brand kit" in render.error
    html = client.get(response["Location"]).content.decode()
    assert 'data-state="failed"' in html and "contact name is too long" in html
    assert "http-equiv" not in html  # no endless reloading
    assert not [
        p for p in Path(settings.MEDIA_ROOT).rglob(f"cobrand/{org.key}/**/*") if p.is_file()
    ]
    url = reverse("cobranding:cobrand_download", args=[item.pk, render.pk, render.filename])
    assert client.get(url).status_code == 404
    # Shortened in the brand kit (a new brand-kit version): the next request renders.
    org.contact_name, org.brand_kit_version = "Max", org.brand_kit_version + 1
    org.save()
    assert client.post(reverse("cobranding:cobrand", args=[item.pk])).status_code == 303
    assert CobrandRender.objects.get().status == "ready"


# ------------------------------------------------------------------------------- admin


def _staff(*perms) -> Client:
    user = get_user_model().objects.get(pk=UserFactory.create(is_staff=True).pk)
    user.user_permissions.add(
        Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"),
        *(Permission.objects.get(codename=p, content_type__app_label="cobranding") for p in perms),
    )
    client = Client()
    client.force_login(user)
    return client


def test_the_template_editor_saves_versions_and_previews_with_a_sample_kit(portal):
    item, document = make_pdf_asset("editor-pdf")
    lineage = document.lineage or document.pk
    editor = _staff("change_cobrandtemplate")
    url = reverse("cobranding_template_edit", args=["document", lineage])
    page = editor.get(url)
    assert page.status_code == 200 and "No template yet" in page.content.decode()
    # The list of co-brandable assets links to it.
    listing = editor.get(reverse("cobranding_templates"))
    assert listing.status_code == 200 and url in listing.content.decode()
    assert _staff().get(reverse("cobranding_templates")).status_code == 404
    # From the asset's page editor: a redirect to its master's template.
    to_template = reverse("cobranding_page_template", args=[item.pk])
    assert editor.get(to_template)["Location"] == url
    form = {
        "zones-TOTAL_FORMS": "2",
        "zones-INITIAL_FORMS": "0",
        "zones-0-kind": "text",
        "zones-0-page": "2",
        "zones-0-x": "10",
        "zones-0-y": "80",
        "zones-0-w": "80",
        "zones-0-h": "12",
        "zones-0-kit_fields": ["contact_name", "contact_email"],
        "zones-0-font_size": "12",
        "zones-0-color": "primary",
        "zones-0-align": "start",
        "zones-1-kind": "logo",
        "zones-1-page": "1",
        "zones-1-x": "5",
        "zones-1-y": "5",
        "zones-1-w": "30",
        "zones-1-h": "10",
        "zones-1-font_size": "12",
        "zones-1-color": "primary",
        "zones-1-align": "center",
    }
    preview = editor.post(url, {**form, "preview": "1"})
    assert preview.status_code == 200 and not CobrandTemplate.objects.exists()
    preview_url = preview.context["preview_url"]
    assert "layout=" in preview_url
    pdf = editor.get(preview_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"  # shown in the editor's frame
    assert "template-editor.js" in preview.content.decode()  # JS only makes it nicer
    assert "Zuzana Nováková-Přibylová" in PdfReader(io.BytesIO(pdf.content)).pages[1].extract_text()

    assert editor.post(url, {**form, "save": "1"}).status_code == 302
    template = CobrandTemplate.objects.get()
    assert (template.lineage, template.version) == (lineage, 1)
    assert editor.post(url, {**form, "save": "1", "confidential": "on"}).status_code == 302
    template.refresh_from_db()
    assert template.version == 2 and template.confidential
    # The saved zones come back as the form's rows.
    rows = editor.get(url).context["zones"].initial
    assert [(r["kind"], r["page"], r["y"]) for r in rows] == [("logo", 1, 5.0), ("text", 2, 80.0)]
    assert rows[1]["kit_fields"] == ["contact_name", "contact_email"]
    assert list(template.versions.values_list("version", flat=True).order_by("version")) == [1, 2]
    # A zone past the page edge: a clear error, nothing saved.
    bad = editor.post(url, {**form, "zones-0-x": "50", "save": "1"})
    assert "reaches past the page" in bad.content.decode()
    template.refresh_from_db()
    assert template.version == 2
    # An untouched "Add a zone" form (as the browser posts it) is skipped; after "Preview" a
    # deleted zone is gone and a new empty form waits at the end.
    blank = {"zones-2-kind": "logo", "zones-2-page": "1", "zones-2-font_size": "12"}
    blank |= {"zones-2-color": "secondary", "zones-2-align": "start"}
    three = {**form, **blank, "zones-TOTAL_FORMS": "3", "zones-1-DELETE": "on", "preview": "1"}
    again = editor.post(url, three)
    assert again.status_code == 200 and "render_error" not in again.context
    forms = again.context["zones"].forms
    assert [zone.is_blank for zone in forms] == [False, True]
    assert "Add a zone" in again.content.decode()

    # Without the permission (and partners): 404.
    for outsider in (_staff(), partner_client(make_org())):
        assert outsider.get(url).status_code in (404, 302)
        assert outsider.get(preview_url).status_code in (404, 302)
        assert outsider.post(url, {**form, "save": "1"}).status_code in (404, 302)
    assert CobrandTemplate.objects.get().version == 2


def test_image_template_preview_is_an_image(portal):
    asset = make_asset("editor-img")
    editor = _staff("change_cobrandtemplate")
    url = reverse("cobranding_template_preview", args=["image", asset.master_image_id])
    response = editor.get(url)  # no template yet: the default layout
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_admin_identify_a_file(portal):
    asset, org = make_asset("identify-admin"), make_org()
    client = partner_client(org, email="petr@acme.example")
    render, content = _download(client, asset)
    staff = _staff("identify_cobrandissue")
    url = reverse("cobranding_identify")
    assert staff.get(url).status_code == 200
    response = staff.post(url, {"file": SimpleUploadedFile("found.png", content)})
    html = response.content.decode()
    assert response.status_code == 200 and org.key in html and "petr@acme.example" in html
    response = staff.post(url, {"file": SimpleUploadedFile("plain.pdf", pdf_bytes(["x"]))})
    assert "No co-brand identifier" in response.content.decode()
    assert _staff().get(url).status_code == 404
    assert client.get(url).status_code in (404, 302)
    assert CobrandIssue.objects.count() == 1  # identifying issues nothing


def test_a_confidential_template_watermarks_every_page_with_the_partners_name(portal):
    item, document = make_pdf_asset("secret-pdf")
    org = make_org(name="Acme Vertrieb GmbH")
    layout = engine.Layout(
        text_zones=(
            engine.TextZone(engine.Box(0.1, 0.8, 0.8, 0.12), fields=("contact_email",), page=1),
        ),
        pages=(1,),
        watermark=True,
    )
    template_save(
        kind="document", master_id=document.lineage or document.pk, layout=layout, confidential=True
    )
    render, content = _download(partner_client(org), item)
    for page in PdfReader(io.BytesIO(content)).pages:
        text = page.extract_text()
        assert "Confidential" in text and "Acme Vertrieb GmbH" in text
