"""Sample inputs for the engine's tests and the benchmark: images, logos, PDFs, brand kits
(built in memory; no Django, no files on disk)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from cobranding.engine import BrandKit

GREY = (200, 200, 200)
MAGENTA = (255, 0, 255)
PRIMARY = "#003366"
SECONDARY = "#ffcc00"


def image_bytes(size=(400, 300), color=GREY, fmt="PNG", mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def logo_bytes(size=(300, 100), color=MAGENTA, fmt="PNG") -> bytes:
    """A logo in one distinct colour (its pixels are easy to find in a render)."""
    return image_bytes(size, color, fmt)


def kit(**overrides) -> BrandKit:
    values = {
        "name": "ACME s.r.o.",
        "contact_name": "Tomáš Přístupový",
        "contact_phone": "+420 123 456 789",
        "contact_email": "tomas@acme.example",
        "contact_web": "acme.example",
        "address": "Na Příkopě 1\n110 00 Praha",
        "primary_color": PRIMARY,
        "secondary_color": SECONDARY,
        "logo": logo_bytes(),
    }
    values.update(overrides)
    return BrandKit(**values)


def pdf_bytes(pages: int = 3, size=(595.0, 842.0), text="Master page {n}") -> bytes:
    """A text-only PDF: each page says ``text`` with its number (real, extractable text)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=size)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, size[1] - 100, text.format(n=number))
        canvas.rect(72, 72, 100, 50, stroke=1, fill=0)  # a vector shape
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels (a decompression bomb's header) with a
    tiny IDAT: opening it reads the header only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
