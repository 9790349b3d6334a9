"""Per-download stamps (cobranding.engine.stamp): written as metadata without re-encoding,
read back whatever the type, the newest wins, pixels and pages unchanged. Pure: no database."""

from __future__ import annotations

import io
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from cobranding.engine import (
    STAMP_KEY,
    CobrandError,
    MasterError,
    default_layout,
    read_stamp,
    render_image,
    render_pdf,
    stamp,
)
from cobranding.tests.engine_samples import image_bytes, kit, pdf_bytes

TOKEN = "c0ffee-Tok_en.1~x"


@pytest.fixture(scope="module")
def renders() -> dict[str, tuple[bytes, str]]:
    layout = default_layout("image")
    png = render_image(image_bytes((500, 400)), layout, kit())
    jpeg = render_image(image_bytes((500, 400), fmt="JPEG"), layout, kit())
    pdf = render_pdf(pdf_bytes(pages=3), default_layout("pdf"), kit())
    return {
        "png": (png.content, png.media_type),
        "jpeg": (jpeg.content, jpeg.media_type),
        "pdf": (pdf.content, pdf.media_type),
    }


@pytest.mark.parametrize("kind", ["png", "jpeg", "pdf"])
def test_round_trip_and_newest_wins(renders, kind):
    content, media_type = renders[kind]
    assert read_stamp(content) is None
    stamped = stamp(content, media_type, TOKEN)
    assert read_stamp(stamped) == TOKEN
    again = stamp(stamped, media_type, "second-token")
    assert read_stamp(again) == "second-token"
    # Images: the older stamp is replaced, not piled up.
    if kind != "pdf":
        assert len(again) == len(stamped) - len(TOKEN) + len("second-token")


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_stamped_image_pixels_are_identical(renders, kind):
    content, media_type = renders[kind]
    stamped = stamp(content, media_type, TOKEN)
    with Image.open(io.BytesIO(content)) as plain, Image.open(io.BytesIO(stamped)) as marked:
        assert plain.format == marked.format and plain.size == marked.size
        assert plain.tobytes() == marked.tobytes()
    # Only metadata was added: the bytes differ by the stamp's chunk/segment alone.
    assert len(stamped) - len(content) < 64


def test_standard_tools_see_the_stamp(renders, tmp_path):
    png, _ = renders["png"]
    with Image.open(io.BytesIO(stamp(png, "image/png", TOKEN))) as image:
        assert image.info[STAMP_KEY] == TOKEN  # a PNG text chunk
    jpeg, _ = renders["jpeg"]
    with Image.open(io.BytesIO(stamp(jpeg, "image/jpeg", TOKEN))) as image:
        assert image.info["comment"] == f"{STAMP_KEY}:{TOKEN}".encode()  # a JPEG COM segment
        assert image.info.get("jfif") is not None  # JFIF's APP0 still first
    pdf, _ = renders["pdf"]
    reader = PdfReader(io.BytesIO(stamp(pdf, "application/pdf", TOKEN)))
    assert reader.metadata[f"/{STAMP_KEY}"] == TOKEN
    assert TOKEN.encode() in reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    # A copy of the file is the file: the stamp travels with it.
    source = tmp_path / "a.png"
    source.write_bytes(stamp(png, "image/png", TOKEN))
    shutil.copy(source, tmp_path / "b.png")
    assert read_stamp((tmp_path / "b.png").read_bytes()) == TOKEN


def test_pdf_stamp_is_an_incremental_update(renders):
    content, media_type = renders["pdf"]
    stamped = stamp(content, media_type, TOKEN)
    assert stamped.startswith(content)  # the original bytes are untouched, an update appended
    restamped = stamp(stamped, media_type, "newer")
    assert restamped.startswith(stamped)
    before, after = PdfReader(io.BytesIO(content)), PdfReader(io.BytesIO(restamped))
    assert len(after.pages) == len(before.pages)
    for old, new in zip(before.pages, after.pages, strict=True):
        assert old.extract_text() == new.extract_text()
    # The master's own document information survives next to the stamp.
    producer = before.metadata.get("/Producer")
    assert after.metadata.get("/Producer") == producer


def test_pdf_with_existing_xmp_keeps_it():
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages=1))))
    writer.xmp_metadata = (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:format>application/pdf</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>"
        b'<?xpacket end="w"?>'
    )
    out = io.BytesIO()
    writer.write(out)
    once = stamp(out.getvalue(), "application/pdf", "one")
    twice = stamp(once, "application/pdf", "two")
    xmp = PdfReader(io.BytesIO(twice)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<dc:format>application/pdf</dc:format>" in xmp
    assert b">two<" in xmp and b">one<" not in xmp


def test_bad_tokens_and_types(renders):
    png, _ = renders["png"]
    for token in ("", "has space", "ü", "a" * 201, "e-mail@example.com"):
        with pytest.raises(CobrandError):
            stamp(png, "image/png", token)
    with pytest.raises(MasterError, match="not the image/jpeg"):
        stamp(png, "image/jpeg", TOKEN)
    with pytest.raises(MasterError):
        stamp(b"GIF89a", "image/gif", TOKEN)
    with pytest.raises(MasterError, match="truncated"):
        stamp(png[:100], "image/png", TOKEN)
    assert read_stamp(b"") is None and read_stamp(b"garbage") is None
    assert read_stamp(png[:50]) is None


@settings(max_examples=60, deadline=None)
@given(token=st.from_regex(r"\A[A-Za-z0-9._~-]{1,60}\Z"))
def test_any_valid_token_round_trips(renders, token):
    for content, media_type in (renders["png"], renders["jpeg"]):
        assert read_stamp(stamp(content, media_type, token)) == token


def test_pdf_whose_last_update_is_an_xref_stream():
    """A file already updated with a cross-reference stream gets one in its stamp too."""
    from pypdf import PdfWriter

    writer = PdfWriter(PdfReader(io.BytesIO(pdf_bytes(pages=2))), incremental=True)
    writer.add_metadata({"/Title": "Updated"})
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    stamped = stamp(stamp(updated, "application/pdf", "one"), "application/pdf", "two")
    assert stamped.startswith(updated) and read_stamp(stamped) == "two"
    reader = PdfReader(io.BytesIO(stamped))
    assert reader.metadata["/Title"] == "Updated" and len(reader.pages) == 2
    assert b"/Type /XRef" in stamped[len(updated) :]


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_finds_no_errors_in_renders_and_stamps(renders, tmp_path):
    import subprocess

    content, media_type = renders["pdf"]
    for name, data in (
        ("render.pdf", content),
        ("stamped.pdf", stamp(stamp(content, media_type, "one"), media_type, "two")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        qpdf = shutil.which("qpdf") or "qpdf"
        result = subprocess.run(  # noqa: S603 - a fixed tool on a file this test wrote
            [qpdf, "--check", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_pdf_fast_path_reads_what_pypdf_reads(renders):
    """The stamp reads a render's last xref table directly; pypdf's full read agrees."""
    import sys

    stamping = sys.modules["cobranding.engine.stamp"]
    content, media_type = renders["pdf"]
    for data in (content, stamp(content, media_type, "one")):
        fast = stamping._fast_prelude(data)
        assert fast is not None and fast == stamping._parse_prelude(data)
    # Shapes it does not handle go the careful way: an xref stream.
    from pypdf import PdfWriter

    writer = PdfWriter(PdfReader(io.BytesIO(content)), incremental=True)
    writer.add_metadata({"/Title": "x"})
    out = io.BytesIO()
    writer.write(out)
    assert stamping._fast_prelude(out.getvalue()) is None
