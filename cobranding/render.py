"""Pillow: a master image with a brand kit on it (no Django, no storage)."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import IO

import reportlab
from PIL import Image, ImageDraw, ImageFont, ImageOps

BAND_ALPHA = 235
MAX_LINES = 6
# Contact blocks are in many languages (Köln, Přístupový): a TrueType font with Latin Extended
# glyphs. Pillow's built-in font has ASCII only; reportlab (a dependency) ships Bitstream Vera
# (Latin-1) as the fallback when DejaVu is not installed.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"),
)


@functools.lru_cache(maxsize=32)
def _font(size: int, font_path: str | None):
    for path in (font_path, *FONT_CANDIDATES):
        if path:
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def render_cobranded_image(
    master: IO[bytes],
    *,
    logo: IO[bytes] | None,
    lines: list[str],
    primary: str,
    secondary: str,
    font_path: str | None = None,
) -> tuple[bytes, str]:
    """The master image with a band along its bottom edge in ``primary``: the contact ``lines``
    on the left in ``secondary``, the ``logo`` (scaled down, transparency kept) in the
    bottom-right corner. The image keeps its size; a JPEG stays a JPEG (quality 90), anything
    else becomes a PNG.

    Returns:
        (encoded bytes, extension with its dot).
    """
    with Image.open(master) as source:
        fmt = "JPEG" if source.format == "JPEG" else "PNG"
        canvas = ImageOps.exif_transpose(source).convert("RGBA")
    width, height = canvas.size
    margin = max(4, min(width, height) // 40)
    font_size = max(10, min(width, height) // 28)
    font = _font(font_size, font_path)
    line_height = round(font_size * 1.3)
    lines = [line.strip() for line in lines if line.strip()][:MAX_LINES]

    logo_image = None
    if logo is not None:
        with Image.open(logo) as raw:
            logo_image = raw.convert("RGBA")
        box = (max(1, width // 5), max(1, max(height // 6, len(lines) * line_height)))
        logo_image.thumbnail(box, Image.Resampling.LANCZOS)

    content_height = max(len(lines) * line_height, logo_image.height if logo_image else 0)
    if content_height:
        band_top = height - min(height // 2, content_height + 2 * margin)
        overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        draw.rectangle((0, band_top, width, height), fill=(*_rgb(primary), BAND_ALPHA))
        text_width = width - 3 * margin - (logo_image.width if logo_image else 0)
        for index, line in enumerate(lines):
            top = band_top + margin + index * line_height
            if top + line_height > height:
                break
            draw.text(
                (margin, top),
                _fit(draw, line, font, text_width),
                font=font,
                fill=(*_rgb(secondary), 255),
            )
        canvas = Image.alpha_composite(canvas, overlay)
        if logo_image is not None:
            position = (width - margin - logo_image.width, height - margin - logo_image.height)
            canvas.paste(logo_image, position, logo_image)

    out = io.BytesIO()
    if fmt == "JPEG":
        canvas.convert("RGB").save(out, format="JPEG", quality=90)
        return out.getvalue(), ".jpg"
    canvas.save(out, format="PNG")
    return out.getvalue(), ".png"
