"""A corpus of good and malicious uploads, built by the tests themselves (nothing downloaded)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def pdf(text: str = "hello", *, pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('pwned');"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("payload.exe", b"MZ\x90\x00" + b"\x00" * 60)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10 gigapixels (the rows compress to almost nothing)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    idat = compressor.compress(row * 16) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_with_script_comment() -> bytes:
    data = image("JPEG")
    comment = b"<script>alert(document.cookie)</script>"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment + data[2:]


def zip_archive(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    entries = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "word/document.xml": b'<?xml version="1.0"?><w:document/>',
    }
    entries.update(extra or {})
    return zip_archive(entries)


def zip_bomb(megabytes: int = 8) -> bytes:
    return zip_archive({"zeros.txt": b"\x00" * (megabytes * 1024 * 1024)})


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
SVG_WITH_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
SVG_CLEAN = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"This program cannot be run in DOS mode"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 120
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 120


def good_files() -> dict[str, bytes]:
    """name → content of files every document upload must accept."""
    return {
        "datasheet.pdf": pdf("datasheet", pages=3),
        "photo.png": image("PNG"),
        "photo.jpg": image("JPEG"),
        "notes.txt": "Grüße, naïve café — UTF-8 text.\n".encode(),
        "prices.csv": b"sku,price\nX1,100\n",
        "bundle.zip": zip_archive({"readme.txt": b"hello", "docs/a.pdf": pdf("a")}),
        "report.docx": docx(),
    }


def malicious_files() -> dict[str, tuple[bytes, str]]:
    """label → (content, the name it arrives under); every one must be refused."""
    good_pdf = pdf("base")
    good_png = image("PNG", (256, 256))
    return {
        "png-bomb": (png_bomb(), "bomb.png"),
        "truncated-png": (good_png[: len(good_png) // 2], "cut.png"),
        "truncated-jpeg": (image("JPEG", (256, 256))[:600], "cut.jpg"),
        "truncated-pdf": (good_pdf[: len(good_pdf) // 2], "cut.pdf"),
        "pdf-html-polyglot": (
            good_pdf.replace(b"%%EOF", b"%<html><script>alert(1)</script>\n%%EOF"),
            "poly.pdf",
        ),
        "html-then-pdf": (HTML + b"\n" + good_pdf, "poly2.pdf"),
        "pdf-zip-polyglot": (good_pdf + zip_archive({"x.html": HTML}), "poly3.pdf"),
        "zip-disguised-as-pdf": (zip_archive({"a.txt": b"hello"}), "invoice.pdf"),
        "pdf-disguised-as-png": (good_pdf, "image.png"),
        "png-disguised-as-jpg": (good_png, "photo.jpg"),
        "jpeg-script-comment": (jpeg_with_script_comment(), "photo.jpg"),
        "pdf-javascript": (pdf_with_javascript(), "js.pdf"),
        "pdf-embedded-file": (pdf_with_attachment(), "attach.pdf"),
        "pdf-encrypted": (pdf_encrypted(), "locked.pdf"),
        "exe-as-pdf": (EXE, "setup.pdf"),
        "exe-as-txt": (EXE, "readme.txt"),
        "elf-as-zip": (ELF, "tools.zip"),
        "macho-as-csv": (MACHO, "data.csv"),
        "exe-extension": (EXE, "setup.exe"),
        "double-extension": (EXE, "invoice.pdf.exe"),
        "rlo-extension": (EXE, "invoice\u202efdp.exe"),
        "html-as-txt": (HTML, "page.txt"),
        "html-file": (HTML, "page.html"),
        "svg-script-as-png": (SVG_WITH_SCRIPT, "logo.png"),
        "svg-file": (SVG_WITH_SCRIPT, "logo.svg"),
        "zip-bomb": (zip_bomb(), "bomb.zip"),
        "zip-traversal": (zip_archive({"../../etc/cron.d/evil": b"* * * * * root sh"}), "t.zip"),
        "zip-with-exe": (zip_archive({"setup.exe": EXE}), "tools.zip"),
        "docx-macro": (docx({"word/vbaProject.bin": b"\x00" * 64}), "macro.docx"),
        "zip-as-docx": (zip_archive({"a.txt": b"x"}), "fake.docx"),
        "nul-text": (b"abc\x00def", "x.txt"),
        "latin1-text": ("café".encode("latin-1"), "x.csv"),
        "empty": (b"", "empty.pdf"),
    }
