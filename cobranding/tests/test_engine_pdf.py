"""The PDF render (cobranding.engine.pdf): a vector overlay on the chosen pages only; the
master's text stays extractable, nothing is rasterised, rotated and cropped pages are respected,
bad input is refused. Pure: no database."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject

from cobranding.engine import (
    Box,
    Layout,
    LayoutError,
    LogoError,
    LogoZone,
    MasterError,
    TextDoesNotFit,
    TextZone,
    UnsupportedScript,
    default_layout,
    render_pdf,
)
from cobranding.engine.layout import Band
from cobranding.tests.engine_samples import kit, pdf_bytes

CONTACT = ("tomas@acme.example", "+420 123 456 789", "acme.example")


def _reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def _xobjects(holder, kind: str) -> list:
    """The XObjects of ``kind`` (/Image, /Form) a page or form uses, forms searched through."""
    resources = holder.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    xobjects = resources.get("/XObject")
    found = []
    for ref in (xobjects.get_object() if xobjects is not None else {}).values():
        obj = ref.get_object()
        if obj.get("/Subtype") == kind:
            found.append(obj)
        if obj.get("/Subtype") == "/Form":
            found.extend(_xobjects(obj, kind))
    return found


def _images(page) -> list:
    return _xobjects(page, "/Image")


def _drawn(page) -> bytes:
    """The page's content and that of the forms it draws."""
    parts = [page.get_contents().get_data()]
    parts.extend(form.get_data() for form in _xobjects(page, "/Form"))
    return b"\n".join(parts)


def _fonts(page) -> set[str]:
    names = set()
    for holder in (page, *_xobjects(page, "/Form")):
        resources = holder.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        for font in (fonts.get_object() if fonts else {}).values():
            names.add(str(font.get_object().get("/BaseFont")))
    return names


def _contact_on(page: int) -> Layout:
    return Layout(
        logo_zones=(LogoZone(Box(0.6, 0.8, 0.35, 0.15), page=page, align="end"),),
        text_zones=(
            TextZone(
                Box(0.05, 0.8, 0.5, 0.15),
                fields=("contact_name", "contact_phone", "contact_email", "contact_web"),
                page=page,
                font_size=12,
                color="primary",
            ),
        ),
    )


def test_contact_block_on_the_chosen_page_only_master_text_kept():
    master = pdf_bytes(pages=3)
    rendered = render_pdf(master, _contact_on(2), kit())
    assert rendered.ext == ".pdf" and rendered.media_type == "application/pdf"
    before, after = _reader(master), _reader(rendered.content)
    assert len(after.pages) == 3
    for number, (old, new) in enumerate(zip(before.pages, after.pages, strict=True), 1):
        text = new.extract_text()
        assert f"Master page {number}" in text  # the master's own text is still text
        assert new.mediabox == old.mediabox and new.cropbox == old.cropbox
        if number == 2:
            assert all(part in text for part in CONTACT)
            assert "Tomáš Přístupový" in text
            assert len(_images(new)) == 1  # the logo, as an image XObject
        else:
            assert not any(part in text for part in CONTACT)
            assert _images(new) == []  # nothing rasterised, nothing replaced


def test_diacritics_greek_and_cyrillic_are_real_text():
    address = "Přístupový Łódź Größe\nΕλλάδα Αθήνα\nМосква Київ"
    layout = Layout(
        text_zones=(TextZone(Box(0.1, 0.1, 0.8, 0.3), fields=("address",), font_size=14),)
    )
    rendered = render_pdf(pdf_bytes(pages=1), layout, kit(address=address))
    text = _reader(rendered.content).pages[0].extract_text()
    for word in ("Přístupový", "Łódź", "Größe", "Ελλάδα", "Αθήνα", "Москва", "Київ"):
        assert word in text
    # The bundled font is embedded (a subset), not a base-14 font that lacks these glyphs.
    names = _fonts(_reader(rendered.content).pages[0])
    assert any("PortalNotoSans" in name or "AAAAAA" in name for name in names), names


def test_default_layout_on_page_one_with_band():
    rendered = render_pdf(pdf_bytes(pages=2), default_layout("pdf"), kit())
    reader = _reader(rendered.content)
    assert "tomas@acme.example" in reader.pages[0].extract_text()
    assert "tomas@acme.example" not in reader.pages[1].extract_text()
    # The band: a filled rectangle in the primary colour (0 0.2 0.4 rg) in page 1's content.
    content = _drawn(reader.pages[0])
    assert b"0 .2 .4 rg" in content or b"0 0.2 0.4 rg" in content


def test_band_on_several_pages():
    layout = Layout(
        text_zones=(TextZone(Box(0.05, 0.9, 0.5, 0.08), fields=("contact_web",)),),
        band=Band(Box(0, 0.88, 1, 0.12)),
        pages=(1, 3),
    )
    reader = _reader(render_pdf(pdf_bytes(pages=3), layout, kit()).content)
    contents = [_drawn(page) for page in reader.pages]
    assert [b"0 .2 .4 rg" in c or b"0 0.2 0.4 rg" in c for c in contents] == [True, False, True]


def _positions(page) -> list[tuple[float, float, str]]:
    """Where each text run starts, in the page's user space."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((x, y, text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def _master_with(rotate: int = 0, cropbox=None) -> bytes:
    writer = PdfWriter(clone_from=_reader(pdf_bytes(pages=1, size=(600, 800))))
    page = writer.pages[0]
    if rotate:
        page[NameObject("/Rotate")] = NumberObject(rotate)
    if cropbox:
        page.cropbox = RectangleObject(cropbox)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("rotate", "expect"),
    [
        # The zone is the bottom strip of the page as displayed: where that lands in user space.
        (0, lambda x, y: y < 800 * 0.15),
        (90, lambda x, y: x > 600 * 0.85),
        (180, lambda x, y: y > 800 * 0.85),
        (270, lambda x, y: x < 600 * 0.15),
    ],
)
def test_rotated_pages_get_the_zone_where_it_is_displayed(rotate, expect):
    layout = Layout(
        text_zones=(TextZone(Box(0.3, 0.9, 0.4, 0.08), fields=("contact_web",), font_size=10),)
    )
    rendered = render_pdf(_master_with(rotate=rotate), layout, kit())
    page = _reader(rendered.content).pages[0]
    assert page.rotation == rotate
    runs = [(x, y) for x, y, text in _positions(page) if "acme.example" in text]
    assert runs, _positions(page)
    assert all(expect(x, y) for x, y in runs), runs


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext missing")
def test_cropbox_offset_is_respected(tmp_path):
    layout = Layout(
        text_zones=(TextZone(Box(0.0, 0.0, 0.5, 0.1), fields=("contact_web",), font_size=10),)
    )
    rendered = render_pdf(_master_with(cropbox=(100, 200, 500, 700)), layout, kit())
    path = tmp_path / "crop.pdf"
    path.write_bytes(rendered.content)
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    html = subprocess.run(  # noqa: S603 - a fixed tool on a file this test wrote
        [pdftotext, "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" [^>]*>acme\.example<', html)
    assert match, html
    # poppler measures from the MediaBox's top-left (800 pt high): the top-left of the
    # visible (cropped) page is x = 100, y = 800 - 700 = 100.
    x, y = float(match.group(1)), float(match.group(2))
    assert 100 <= x <= 110 and 100 <= y <= 140, (x, y)


def test_watermark_on_every_page_as_text():
    rendered = render_pdf(pdf_bytes(pages=3), _contact_on(1), kit(), watermark_text="Confidential")
    reader = _reader(rendered.content)
    assert all("Confidential" in page.extract_text() for page in reader.pages)
    assert all("Master page" in page.extract_text() for page in reader.pages)


def test_kit_without_logo_writes_the_company_name():
    rendered = render_pdf(pdf_bytes(pages=1), _contact_on(1), kit(logo=None))
    page = _reader(rendered.content).pages[0]
    assert "ACME s.r.o." in page.extract_text() and _images(page) == []


def test_a_larger_pdf_keeps_its_pages():
    master = pdf_bytes(pages=20)
    rendered = render_pdf(master, default_layout("pdf"), kit())
    reader = _reader(rendered.content)
    assert len(reader.pages) == 20
    assert all(f"Master page {n}" in reader.pages[n - 1].extract_text() for n in range(1, 21))


# --- bad input --------------------------------------------------------------------------------


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=_reader(pdf_bytes(pages=1)))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("master", "message"),
    [
        (b"", "not a PDF"),
        (b"GIF89a....", "not a PDF"),
        (b"%PDF-1.7\n%garbage only\n", "damaged"),
        (pdf_bytes(pages=2)[:300], "damaged"),
        (_encrypted(), "encrypted"),
    ],
)
def test_bad_pdf_masters(master, message):
    with pytest.raises(MasterError, match=message):
        render_pdf(master, default_layout("pdf"), kit())


def test_zone_on_a_page_the_pdf_does_not_have():
    with pytest.raises(LayoutError, match="logo zone 1 is on page 5 but the PDF has 3 pages"):
        render_pdf(pdf_bytes(pages=3), _contact_on(5), kit())


def test_text_that_cannot_fit_on_the_pdf():
    layout = Layout(
        text_zones=(TextZone(Box(0, 0, 0.02, 0.5), fields=("contact_email",), min_font_size=8),)
    )
    with pytest.raises(TextDoesNotFit, match="text zone 1: the contact email"):
        render_pdf(pdf_bytes(pages=1), layout, kit())


def test_logo_not_an_image_and_unsupported_script_on_pdf():
    with pytest.raises(LogoError):
        render_pdf(pdf_bytes(pages=1), _contact_on(1), kit(logo=b"%PDF-1.4 not a logo"))
    with pytest.raises(UnsupportedScript, match="contact name"):
        render_pdf(pdf_bytes(pages=1), _contact_on(1), kit(contact_name="山田太郎"))
