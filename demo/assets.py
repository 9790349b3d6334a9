"""In-memory generators for realistic partner-portal demo files.

The demo seeding needs product sheets, training guides and marketing visuals of a (fictitious)
network-hardware vendor, *Altivo Networks*.  Everything here is generated in memory, without
font files or network access, and is deterministic: identical inputs give byte-identical
output (for the installed Pillow / reportlab versions). The PDFs' texts (labels, sentences,
headings, bullets, tips and specification rows in en/de/cs) are data: demo/data/pdf_texts.json.

Public API:

* :func:`make_product_image` - JPEG/PNG marketing visual with a drawn network appliance.
* :func:`make_pdf` - multi-page A4 datasheet / training guide made with reportlab.
* :func:`make_logo` - transparent PNG logo for a partner organisation.
* :data:`LOGO_ZONE`, :data:`CONTACT_ZONE` - empty co-branding areas on page 1 of every PDF,
  as ``(x, y, width, height)`` in PDF points measured from the bottom-left corner of A4.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

__all__ = [
    "CONTACT_ZONE",
    "LOGO_ZONE",
    "VENDOR_NAME",
    "make_logo",
    "make_pdf",
    "make_product_image",
]

_T = TypeVar("_T")

VENDOR_NAME = "Altivo Networks"
_VENDOR_WORD = "ALTIVO"
_VENDOR_SUB = "NETWORKS"
_VENDOR_URL = "www.altivo-networks.example"

# --------------------------------------------------------------------------------------------
# Geometry of the PDF (A4 portrait, points, origin bottom-left)
# --------------------------------------------------------------------------------------------
PAGE_W, PAGE_H = A4
_MARGIN = 50.0

#: Empty top-right area on page 1 reserved for a partner logo: (x, y, width, height).
LOGO_ZONE: tuple[float, float, float, float] = (
    round(PAGE_W - 36.0 - 180.0, 2),
    round(PAGE_H - 36.0 - 70.0, 2),
    180.0,
    70.0,
)
#: Empty full-width band at the bottom of page 1 reserved for a partner contact block.
CONTACT_ZONE: tuple[float, float, float, float] = (0.0, 0.0, round(PAGE_W, 2), 60.0)

_BAND_TOP = 716.0  # cover band sits below the logo zone (LOGO_ZONE y = 735.89)
_BAND_BOTTOM = 548.0
_FOOTER_Y = 70.0  # footer baseline, above the contact zone
_FRAME_BOTTOM = 96.0
_COVER_FRAME_TOP = _BAND_BOTTOM - 22.0
_BODY_FRAME_TOP = PAGE_H - 84.0
_FRAME_W = PAGE_W - 2 * _MARGIN

_LANGS = ("en", "de", "cs")

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


class _Rng:
    """Tiny deterministic pseudo-random generator (SHA-256 in counter mode).

    Used only to vary demo content reproducibly; it is not meant for anything security related
    (and avoids the process-global state of :mod:`random`).
    """

    def __init__(self, *seed: object) -> None:
        self._key = repr(seed).encode("utf-8")
        self._counter = 0

    def random(self) -> float:
        """Return a float in ``[0, 1)``."""
        self._counter += 1
        digest = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
        return int.from_bytes(digest[:7], "big") / float(1 << 56)

    def randint(self, low: int, high: int) -> int:
        """Return an integer in ``[low, high]``."""
        return low + int(self.random() * (high - low + 1))

    def uniform(self, low: float, high: float) -> float:
        """Return a float in ``[low, high)``."""
        return low + (high - low) * self.random()

    def choice(self, seq: Sequence[_T]) -> _T:
        """Return one element of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]

    def shuffled(self, seq: Sequence[_T]) -> list[_T]:
        """Return a shuffled copy of ``seq`` (Fisher-Yates)."""
        items = list(seq)
        for i in range(len(items) - 1, 0, -1):
            j = int(self.random() * (i + 1))
            items[i], items[j] = items[j], items[i]
        return items


class _Bag:
    """Endless supply of items drawn without repetition until the pool is exhausted."""

    def __init__(self, rng: _Rng, items: Sequence[str]) -> None:
        self._rng = rng
        self._items = list(items)
        self._queue: list[str] = []

    def take(self) -> str:
        """Return the next item, reshuffling when the pool is used up."""
        if not self._queue:
            self._queue = self._rng.shuffled(self._items)
        return self._queue.pop()


def _rgb(color: str) -> tuple[int, int, int]:
    """Parse any Pillow colour string (``#1f6feb``, ``#0a7``, ``navy``...) into RGB."""
    value = ImageColor.getrgb(color)
    return value[0], value[1], value[2]


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """Linear interpolation between two RGB colours (``t=0`` gives ``a``)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _shift(
    rgb: tuple[int, int, int], *, hue: float = 0.0, light: float = 0.0
) -> tuple[int, int, int]:
    """Shift hue (fraction of a turn) and lightness (absolute) of an RGB colour."""
    h, lightness, s = colorsys.rgb_to_hls(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)
    h = (h + hue) % 1.0
    lightness = min(1.0, max(0.0, lightness + light))
    r, g, b = colorsys.hls_to_rgb(h, lightness, s)
    return round(r * 255), round(g * 255), round(b * 255)


_ASCII_MAP = {
    "ß": "ss",
    "Æ": "AE",
    "æ": "ae",
    "Ø": "O",
    "ø": "o",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "€": "EUR",
    "×": "x",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "…": "...",
    "°": " deg",
    "•": "-",
    "·": "-",
    "\u00a0": " ",
}


def _fold_char(ch: str) -> str:
    """Transliterate one character to ASCII (NFKD, then a small manual table)."""
    if ch in _ASCII_MAP:
        return _ASCII_MAP[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    ascii_only = "".join(c for c in decomposed if ord(c) < 128 and not unicodedata.combining(c))
    return ascii_only or "?"


def _ascii(text: str) -> str:
    """ASCII transliteration (used for raster text: the built-in Pillow font is ASCII only)."""
    return "".join(ch if ord(ch) < 128 else _fold_char(ch) for ch in text)


def _pdf_safe(text: str) -> str:
    """Keep characters Helvetica (WinAnsi) can show; transliterate the rest (e.g. ``ř`` → ``r``)."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in folded if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
            except UnicodeEncodeError:
                base = _fold_char(ch)
            out.append(base or "?")
        else:
            out.append(ch)
    return "".join(out)


def _markup(text: str) -> str:
    """Escape text for reportlab's paragraph mini-markup and make it Helvetica-safe."""
    safe = _pdf_safe(text)
    return safe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_CATEGORY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "training",
            r"\b(?:train|course|guide|academy|certif|workshop|labs?\b|schulung|kurs|leitfaden"
            r"|školení|kurz|příručk)",
        ),
        ("firewall", r"\b(?:firewall|security|threat|vpn\b|sicherheit|bezpečnost|utm\b|ngfw)"),
        ("wireless", r"\b(?:wi-?fi|wireless|access points?\b|wlan|bezdrát|ap\b)"),
        ("router", r"\b(?:router|routing|sd-wan|wan\b|směrovač)"),
        ("switch", r"\b(?:switch|poe|ethernet|přepínač|stack)"),
    )
)


def _category(title: str, subtitle: str = "") -> str:
    """Guess the kind of asset: training/firewall/wireless/router/switch/platform.

    The title decides first; the subtitle is only consulted when the title is inconclusive.
    """
    for text in (title, subtitle):
        for name, pattern in _CATEGORY_PATTERNS:
            if pattern.search(text):
                return name
    return "platform"


# --------------------------------------------------------------------------------------------
# Raster images (Pillow)
# --------------------------------------------------------------------------------------------

_SS = 2  # supersampling factor for anti-aliased shapes


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in scalable font (Pillow >= 10.1), cached per pixel size."""
    return ImageFont.load_default(size=max(6, int(size)))


def _font_size(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> float:
    return float(font.size) if isinstance(font, ImageFont.FreeTypeFont) else 11.0


def _text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
    return float(font.getlength(text))


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> list[str]:
    """Greedy word wrap of ``text`` so each line is at most ``width`` pixels wide."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and _text_width(font, candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _fit_text(
    text: str, start_size: int, width: float, max_lines: int, min_size: int = 10
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str]]:
    """Find the largest font size (<= ``start_size``) at which ``text`` fits in ``max_lines``."""
    size = start_size
    while True:
        font = _font(size)
        lines = _wrap(text, font, width)
        fits = len(lines) <= max_lines and all(_text_width(font, ln) <= width for ln in lines)
        if fits or size <= min_size:
            if len(lines) > max_lines:  # still too long: truncate with an ellipsis
                lines = lines[:max_lines]
                last = lines[-1]
                while last and _text_width(font, last + "...") > width:
                    last = last[:-1]
                lines[-1] = last.rstrip() + "..."
            return font, lines
        size = max(min_size, int(size * 0.9))


def _gradient(
    size: tuple[int, int], c1: tuple[int, int, int], c2: tuple[int, int, int]
) -> Image.Image:
    """Diagonal gradient from ``c1`` (top-left) to ``c2`` (bottom-right)."""
    w, h = size
    corners = Image.new("L", (2, 2))
    corners.putdata([0, 110, 145, 255])
    mask = corners.resize((w, h), Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, c2), Image.new("RGB", size, c1), mask)


def _draw_wordmark(
    img: Image.Image, x: float, y: float, scale: float, color: tuple[int, int, int]
) -> None:
    """Vendor wordmark: three rising bars + letter-spaced ``ALTIVO`` + ``NETWORKS``."""
    draw = ImageDraw.Draw(img, "RGBA")
    bar_w = 7 * scale
    gap = 4 * scale
    base = y + 30 * scale
    for i, bh in enumerate((14, 22, 30)):
        bx = x + i * (bar_w + gap)
        draw.rounded_rectangle(
            (bx, base - bh * scale, bx + bar_w, base), radius=max(1, int(2 * scale)), fill=color
        )
    font = _font(round(26 * scale))
    tx = x + 3 * (bar_w + gap) + 8 * scale
    for ch in _VENDOR_WORD:
        draw.text(
            (tx, base), ch, font=font, fill=color, anchor="ls", stroke_width=1, stroke_fill=color
        )
        tx += _text_width(font, ch) + 4 * scale
    small = _font(round(11 * scale))
    sub_color = _mix(color, (128, 140, 160), 0.3)
    sx = tx + 6 * scale
    for ch in _VENDOR_SUB:
        draw.text((sx, base - 1 * scale), ch, font=small, fill=sub_color, anchor="ls")
        sx += _text_width(small, ch) + 2.5 * scale


def _draw_rj45(
    draw: ImageDraw.ImageDraw, x: float, y: float, w: float, h: float, notch_up: bool
) -> None:
    """An RJ45 socket seen from the front, with the latch notch up or down."""
    draw.rectangle((x, y, x + w, y + h), fill=(58, 64, 73))
    inset = max(1.0, w * 0.09)
    draw.rectangle((x + inset, y + inset, x + w - inset, y + h - inset), fill=(12, 14, 17))
    nw = w * 0.38
    nh = h * 0.2
    nx = x + (w - nw) / 2
    if notch_up:
        draw.rectangle((nx, y + inset, nx + nw, y + inset + nh), fill=(58, 64, 73))
    else:
        draw.rectangle((nx, y + h - inset - nh, nx + nw, y + h - inset), fill=(58, 64, 73))
    # gold contacts
    cy = y + h * (0.68 if notch_up else 0.2)
    for k in range(8):
        px = x + inset * 2 + k * (w - inset * 4) / 8
        draw.rectangle((px, cy, px + (w - inset * 4) / 16, cy + h * 0.1), fill=(160, 130, 60))


_LED_ON = (46, 230, 110)
_LED_AMBER = (255, 176, 32)
_LED_OFF = (52, 57, 64)
_PANEL = (34, 38, 45)


def _led(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, color: tuple[int, int, int]
) -> None:
    """A status LED; lit LEDs get a halo pre-mixed with the dark panel colour.

    (Drawing with partial alpha onto an RGBA layer would replace, not blend, the pixels.)
    """
    if color != _LED_OFF:
        for k, t in ((2.6, 0.18), (1.8, 0.4)):
            halo = _mix(_PANEL, color, t)
            draw.ellipse((cx - r * k, cy - r * k, cx + r * k, cy + r * k), fill=(*halo, 255))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*color, 255))


def _draw_rack_device(
    layer: Image.Image,
    box: tuple[float, float, float, float],
    rng: _Rng,
    category: str,
    accent: tuple[int, int, int],
    model: str,
) -> None:
    """Draw a 1U/2U rack appliance (front face + receding top face) onto an RGBA layer."""
    draw = ImageDraw.Draw(layer, "RGBA")
    x0, y0, x1, y1 = box
    fh = y1 - y0
    depth = fh * 0.42
    dx = depth * 1.1
    # top face (seen slightly from above)
    top = [(x0, y0), (x1, y0), (x1 - dx, y0 - depth), (x0 + dx, y0 - depth)]
    draw.polygon(top, fill=(74, 82, 94))
    draw.line([(x0 + dx, y0 - depth), (x1 - dx, y0 - depth)], fill=(120, 130, 142), width=2 * _SS)
    vent_y = y0 - depth * 0.55
    for i in range(36):
        vx = x0 + dx * 0.8 + i * (x1 - x0 - 2 * dx) / 36 + fh * 0.4
        if vx > x1 - dx * 1.5:
            break
        draw.line(
            [(vx, vent_y - depth * 0.18), (vx - depth * 0.2, vent_y + depth * 0.18)],
            fill=(52, 58, 67),
            width=_SS * 2,
        )
    # rack ears
    ear = fh * 0.22
    for ex0, ex1 in ((x0 - ear, x0 + 2), (x1 - 2, x1 + ear)):
        draw.rounded_rectangle(
            (ex0, y0 + fh * 0.02, ex1, y1 - fh * 0.02), radius=4 * _SS, fill=(96, 104, 116)
        )
        hx = (ex0 + ex1) / 2
        for hy in (y0 + fh * 0.25, y1 - fh * 0.25):
            r = ear * 0.18
            draw.ellipse((hx - r, hy - r * 1.4, hx + r, hy + r * 1.4), fill=(30, 33, 38))
    # front face
    draw.rounded_rectangle(
        box, radius=int(fh * 0.06), fill=(*_PANEL, 255), outline=(88, 96, 108), width=2 * _SS
    )
    draw.rectangle(
        (x0 + fh * 0.05, y0 + fh * 0.05, x1 - fh * 0.05, y0 + fh * 0.085), fill=(*accent, 255)
    )

    pad = fh * 0.14
    # left section: vendor, model, status LEDs, console
    left_w = fh * 1.25
    fsize = max(8, int(fh * 0.11))
    font = _font(fsize)
    draw.text(
        (x0 + pad, y0 + pad + fh * 0.05), _VENDOR_WORD, font=font, fill=(210, 216, 224), anchor="lt"
    )
    draw.text(
        (x0 + pad, y0 + pad + fh * 0.05 + fsize * 1.3),
        _ascii(model)[:14],
        font=_font(max(7, int(fsize * 0.8))),
        fill=(140, 150, 162),
        anchor="lt",
    )
    led_r = fh * 0.028
    for i, (label, col) in enumerate((("PWR", _LED_ON), ("SYS", _LED_ON), ("FAN", _LED_AMBER))):
        ly = y0 + fh * 0.58 + i * fh * 0.12
        _led(draw, x0 + pad + led_r, ly, led_r, col)
        draw.text(
            (x0 + pad + led_r * 3.5, ly),
            label,
            font=_font(max(7, int(fh * 0.07))),
            fill=(150, 158, 170),
            anchor="lm",
        )
    cx = x0 + left_w * 0.62
    draw.rectangle(
        (cx, y0 + fh * 0.6, cx + fh * 0.22, y0 + fh * 0.8),
        fill=(20, 22, 26),
        outline=(90, 98, 110),
        width=_SS,
    )

    # port field
    n_ports, n_sfp = {
        "switch": (24, 4),
        "platform": (24, 4),
        "training": (16, 4),
        "router": (8, 4),
        "firewall": (12, 2),
    }.get(category, (24, 4))
    right_w = fh * (0.95 if n_sfp <= 2 else 1.55)
    field_x0 = x0 + left_w + pad
    field_x1 = x1 - right_w - pad
    rows = 2
    cols = n_ports // rows
    group = 6 if cols % 6 == 0 else 4
    groups = max(1, cols // group)
    group_gap = fh * 0.12
    port_w = (field_x1 - field_x0 - (groups - 1) * group_gap) / cols
    port_w = min(port_w, fh * 0.3)
    pw = port_w * 0.86
    ph = fh * 0.27
    used = cols * port_w + (groups - 1) * group_gap
    start = field_x0 + (field_x1 - field_x0 - used) / 2
    if category == "firewall":
        # small status display for the firewall
        lcd = (field_x0, y0 + fh * 0.2, field_x0 + fh * 0.9, y0 + fh * 0.46)
        draw.rectangle(lcd, fill=(16, 40, 58), outline=(80, 90, 100), width=_SS)
        draw.text(
            (lcd[0] + fh * 0.05, (lcd[1] + lcd[3]) / 2),
            "SECURE",
            font=_font(max(7, int(fh * 0.08))),
            fill=(120, 220, 255),
            anchor="lm",
        )
        start = max(start, lcd[2] + fh * 0.15)
    for r in range(rows):
        py = y0 + fh * 0.2 + r * (ph + fh * 0.16)
        for c in range(cols):
            px = start + c * port_w + (c // group) * group_gap
            _draw_rj45(draw, px, py, pw, ph, notch_up=(r == 0))
            roll = rng.random()
            col = _LED_ON if roll < 0.62 else (_LED_AMBER if roll < 0.72 else _LED_OFF)
            ly = py - fh * 0.06 if r == 0 else py + ph + fh * 0.06
            _led(draw, px + pw * 0.5, ly, fh * 0.018, col)
    # SFP cages on the right
    sfp_cols = max(1, n_sfp // 2)
    sw = right_w / max(sfp_cols, 1) * 0.8
    sh = fh * 0.2
    for i in range(n_sfp):
        r, c = divmod(i, sfp_cols)
        sx = x1 - pad - right_w + c * (right_w / sfp_cols) + right_w * 0.05
        sy = y0 + fh * 0.22 + r * (sh + fh * 0.22)
        draw.rectangle(
            (sx, sy, sx + sw, sy + sh), fill=(168, 176, 186), outline=(110, 118, 128), width=_SS
        )
        draw.rectangle(
            (sx + sw * 0.1, sy + sh * 0.28, sx + sw * 0.9, sy + sh * 0.72), fill=(20, 22, 26)
        )
        lit = rng.random() < 0.6
        _led(
            draw,
            sx + sw * 0.5,
            sy + sh + fh * 0.06 if r else sy - fh * 0.06,
            fh * 0.018,
            _LED_ON if lit else _LED_OFF,
        )


def _draw_access_point(
    layer: Image.Image, center: tuple[float, float], radius: float, accent: tuple[int, int, int]
) -> None:
    """Top view of a ceiling access point with an LED ring and Wi-Fi arcs."""
    draw = ImageDraw.Draw(layer, "RGBA")
    cx, cy = center
    r = radius
    for i in range(3):
        rr = r * (1.45 + i * 0.32)
        draw.arc(
            (cx - rr, cy - rr - r * 0.25, cx + rr, cy + rr - r * 0.25),
            215,
            325,
            fill=(255, 255, 255, 150 - i * 35),
            width=int(r * 0.07),
        )
    draw.rounded_rectangle(
        (cx - r, cy - r, cx + r, cy + r),
        radius=int(r * 0.35),
        fill=(236, 239, 243),
        outline=(200, 205, 212),
        width=2 * _SS,
    )
    inner = r * 0.82
    draw.rounded_rectangle(
        (cx - inner, cy - inner, cx + inner, cy + inner), radius=int(r * 0.28), fill=(246, 248, 250)
    )
    ring = r * 0.28
    draw.ellipse(
        (cx - ring * 1.6, cy - ring * 1.6, cx + ring * 1.6, cy + ring * 1.6),
        fill=(*_mix((246, 248, 250), accent, 0.3), 255),
    )
    draw.ellipse(
        (cx - ring, cy - ring, cx + ring, cy + ring), outline=(*accent, 255), width=int(r * 0.05)
    )
    font = _font(int(r * 0.13))
    draw.text((cx, cy + r * 0.55), _VENDOR_WORD, font=font, fill=(150, 156, 166), anchor="mm")


def make_product_image(
    title: str,
    *,
    subtitle: str = "",
    color: str = "#1f6feb",
    size: tuple[int, int] = (1200, 800),
    fmt: str = "JPEG",
) -> bytes:
    """Render a marketing visual for a product or training and return the encoded bytes.

    The picture has a diagonal gradient in ``color``, a subtle network-graph pattern, the vendor
    wordmark, a category badge, the (wrapped) ``title`` and ``subtitle`` and a drawn network
    appliance (rack switch/router/firewall, or a ceiling access point for wireless titles).
    Text is rendered with Pillow's built-in font, which only covers ASCII, so accented letters
    are transliterated (``Přehled`` becomes ``Prehled``).

    Args:
        title: Main headline, e.g. ``"AX-2400 Multi-Gigabit Switch"``.
        subtitle: Optional second line.
        color: Base colour (any Pillow colour string).
        size: ``(width, height)`` in pixels.
        fmt: ``"JPEG"`` (also ``"JPG"``) or ``"PNG"``; the image mode is always ``RGB``.

    Returns:
        The encoded image. Identical arguments give identical bytes.
    """
    fmt_norm = fmt.upper()
    if fmt_norm == "JPG":
        fmt_norm = "JPEG"
    if fmt_norm not in {"JPEG", "PNG"}:
        raise ValueError(f"unsupported image format {fmt!r}; use 'JPEG' or 'PNG'")
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 64:
        raise ValueError("image size must be at least 64x64 pixels")

    base = _rgb(color)
    rng = _Rng("image", title, subtitle, color, w, h)
    category = _category(title, subtitle)
    s = min(w / 1200, h / 800)
    pad = 60 * s

    # ---- text layout first: the product drawing goes below it
    text_w = w * 0.62 if w >= h * 1.1 else w - 2 * pad
    tfont, tlines = _fit_text(
        _ascii(title), round(64 * s), text_w, 2, min_size=max(10, round(30 * s))
    )
    tsize = _font_size(tfont)
    slines: list[str] = []
    sfont = _font(round(30 * s))
    if subtitle:
        sfont, slines = _fit_text(
            _ascii(subtitle), round(30 * s), text_w, 2, min_size=max(9, round(18 * s))
        )
    ssize = _font_size(sfont)
    title_y = h * 0.2
    rule_y = title_y + len(tlines) * tsize * 1.15 + 6 * s
    sub_y = rule_y + 26 * s
    text_bottom = sub_y + len(slines) * ssize * 1.25

    # ---- product geometry
    wireless = category == "wireless"
    if wireless:
        radius = min(w, h) * 0.16
        cx, cy = w * 0.78, max(h * 0.66, min(text_bottom + radius * 2.2, h - radius * 1.4))
        region = (
            int(cx - radius * 2.1),
            int(cy - radius * 2.1),
            int(cx + radius * 2.1),
            int(cy + radius * 1.2),
        )
        shadow_box = (cx - radius * 1.2, cy - radius * 0.6, cx + radius * 1.25, cy + radius * 1.3)
    else:
        dev_w = w * 0.74
        dev_h = min(h * 0.17, dev_w * 0.16)
        dx0 = (w - dev_w) / 2 + w * 0.02
        dy0 = min(max(text_bottom + dev_h * 0.8, h * 0.64), h - dev_h - 45 * s)
        region = (
            int(dx0 - dev_h * 0.3),
            int(dy0 - dev_h * 0.5),
            int(dx0 + dev_w + dev_h * 0.3) + 1,
            int(dy0 + dev_h) + 2,
        )
        shadow_box = (dx0 - dev_w * 0.02, dy0 + dev_h * 0.55, dx0 + dev_w * 1.02, dy0 + dev_h * 1.3)

    # ---- soft background (gradient, glow, shadow) at quarter resolution, upscaled once
    q = 4
    sw, sh = max(2, w // q), max(2, h // q)
    dark = _mix(base, (6, 10, 22), 0.62)
    light = _mix(base, (255, 255, 255), 0.08)
    small = _gradient((sw, sh), dark, light).convert("RGBA")
    soft = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    sd = ImageDraw.Draw(soft)
    sd.ellipse((sw * 0.1, sh * 0.45, sw * 0.9, sh * 1.05), fill=(255, 255, 255, 50))
    hl = _shift(base, hue=0.06, light=0.15)
    sd.ellipse((sw * 0.6, -sh * 0.4, sw * 1.3, sh * 0.45), fill=(hl[0], hl[1], hl[2], 90))
    small.alpha_composite(soft.filter(ImageFilter.GaussianBlur(22 * s)))
    shade = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    ImageDraw.Draw(shade).ellipse(tuple(v / q for v in shadow_box), fill=(0, 0, 0, 130))
    small.alpha_composite(shade.filter(ImageFilter.GaussianBlur(7 * s)))
    img = small.convert("RGB").resize((w, h), Image.Resampling.BICUBIC)

    # ---- decorative network graph (upper right) and dot grid (bottom left)
    draw = ImageDraw.Draw(img, "RGBA")
    if text_w < w * 0.7:  # landscape: graph to the right of the headline
        gx0, gx1, gy0, gy1 = w * 0.68, w * 0.97, h * 0.16, min(h * 0.5, region[1] - 12 * s)
    else:  # portrait: graph between the text block and the product
        gx0, gx1, gy0, gy1 = w * 0.45, w * 0.95, text_bottom + 40 * s, region[1] - 20 * s
    n_nodes = 11 if gy1 - gy0 > 60 * s else 0
    nodes = [(rng.uniform(gx0, gx1), rng.uniform(gy0, gy1)) for _ in range(n_nodes)]
    for i, (nx, ny) in enumerate(nodes):
        nearest = sorted(
            (math.hypot(nx - ox, ny - oy), j) for j, (ox, oy) in enumerate(nodes) if j != i
        )[:2]
        for _, j in nearest:
            draw.line([(nx, ny), nodes[j]], fill=(255, 255, 255, 45), width=max(1, round(1.5 * s)))
    for nx, ny in nodes:
        r = rng.uniform(3, 7) * s
        draw.ellipse(
            (nx - r * 2.2, ny - r * 2.2, nx + r * 2.2, ny + r * 2.2), fill=(255, 255, 255, 22)
        )
        draw.ellipse((nx - r, ny - r, nx + r, ny + r), fill=(255, 255, 255, 120))
    step = max(8, round(22 * s))
    for gx in range(round(30 * s), round(w * 0.28), step):
        for gy in range(round(h * 0.88), h - round(10 * s), step):
            draw.ellipse(
                (gx - 1.5 * s, gy - 1.5 * s, gx + 1.5 * s, gy + 1.5 * s), fill=(255, 255, 255, 40)
            )

    # ---- header: wordmark + category badge
    _draw_wordmark(img, pad, pad * 0.7, s, (255, 255, 255))
    badge = {
        "switch": "SWITCHING",
        "router": "ROUTING",
        "firewall": "SECURITY",
        "wireless": "WIRELESS",
        "training": "TRAINING",
    }.get(category, "NETWORKING")
    bfont = _font(round(15 * s))
    bw = _text_width(bfont, badge) + 36 * s
    bh = 34 * s
    bx1 = w - pad
    by0 = pad * 0.7 + 4 * s
    draw.rounded_rectangle(
        (bx1 - bw, by0, bx1, by0 + bh),
        radius=int(bh / 2),
        fill=(255, 255, 255, 34),
        outline=(255, 255, 255, 150),
        width=max(1, round(1.5 * s)),
    )
    draw.text((bx1 - bw / 2, by0 + bh / 2), badge, font=bfont, fill=(255, 255, 255), anchor="mm")

    # ---- title, accent rule, subtitle
    ty = title_y
    for line in tlines:
        draw.text(
            (pad, ty),
            line,
            font=tfont,
            fill=(255, 255, 255),
            anchor="lt",
            stroke_width=max(1, round(1.2 * s)),
            stroke_fill=(255, 255, 255),
        )
        ty += tsize * 1.15
    draw.rectangle(
        (pad, rule_y + 6 * s, pad + 64 * s, rule_y + 11 * s),
        fill=_shift(base, hue=0.08, light=0.28),
    )
    sub_rgb = _mix((255, 255, 255), base, 0.12)
    for i, line in enumerate(slines):
        draw.text((pad, sub_y + i * ssize * 1.25), line, font=sfont, fill=sub_rgb, anchor="lt")

    # ---- product drawing, supersampled and reduced with premultiplied alpha
    rw, rh = region[2] - region[0], region[3] - region[1]
    layer = Image.new("RGBA", (rw * _SS, rh * _SS), (0, 0, 0, 0))
    accent_dev = _shift(base, light=0.12)
    if wireless:
        center = ((cx - region[0]) * _SS, (cy - region[1]) * _SS)
        _draw_access_point(layer, center, radius * _SS, accent_dev)
    else:
        box = (
            (dx0 - region[0]) * _SS,
            (dy0 - region[1]) * _SS,
            (dx0 + dev_w - region[0]) * _SS,
            (dy0 + dev_h - region[1]) * _SS,
        )
        model = title.split()[0] if title.split() else "AX"
        _draw_rack_device(layer, box, rng, category, accent_dev, model)
    layer = layer.convert("RGBa").reduce(_SS).convert("RGBA")
    img.paste(layer, (region[0], region[1]), layer)

    # ---- footer URL
    draw = ImageDraw.Draw(img, "RGBA")
    url_rgb = _mix((255, 255, 255), base, 0.3)
    draw.text(
        (w - pad, h - 26 * s), _VENDOR_URL, font=_font(round(14 * s)), fill=url_rgb, anchor="rs"
    )

    out = io.BytesIO()
    if fmt_norm == "JPEG":
        img.save(out, "JPEG", quality=88, optimize=False, progressive=False, subsampling="4:2:0")
    else:
        img.save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()


def make_logo(name: str, *, color: str = "#0a7", size: tuple[int, int] = (400, 160)) -> bytes:
    """Render a partner logo as a transparent RGBA PNG.

    The logo is a round emblem in ``color`` with the organisation's initials knocked out
    (transparent), a small orbit accent, and ``name`` set next to it in a darker tone.

    Args:
        name: Organisation name, e.g. ``"Brightline Systems s.r.o."``.
        color: Brand colour (any Pillow colour string).
        size: ``(width, height)`` in pixels.

    Returns:
        PNG bytes; identical arguments give identical bytes.
    """
    w, h = int(size[0]), int(size[1])
    if w < 16 or h < 16:
        raise ValueError("logo size must be at least 16x16 pixels")
    ss = 3
    cw, ch = w * ss, h * ss  # supersampled canvas
    base = _rgb(color)
    text_rgb = _mix(base, (20, 24, 32), 0.45)
    clean = _ascii(name).strip() or "Partner"
    words = [wd for wd in clean.replace("-", " ").split() if wd[:1].isalnum()]
    initials = "".join(wd[0] for wd in words[:2]).upper() or clean[:1].upper()
    stacked = w < h * 1.8  # squarish canvas: emblem on top, name below

    if stacked:
        r = min(cw * 0.22, ch * 0.22)
        cx, cy = cw / 2, ch * 0.36
    else:
        r = ch * 0.31
        cx, cy = ch * 0.5, ch * 0.52
    emblem = Image.new("L", (cw, ch), 0)
    ImageDraw.Draw(emblem).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    knock = Image.new("L", (cw, ch), 0)
    ifont = _font(round(r * (0.95 if len(initials) == 1 else 0.78)))
    ImageDraw.Draw(knock).text(
        (cx, cy), initials, font=ifont, fill=255, anchor="mm", stroke_width=ss, stroke_fill=255
    )
    emblem.paste(0, (0, 0), knock)

    accent = Image.new("L", (cw, ch), 0)
    ad = ImageDraw.Draw(accent)
    ro = r * 1.3
    ad.arc((cx - ro, cy - ro, cx + ro, cy + ro), 200, 330, fill=255, width=max(2, round(r * 0.1)))
    dot = r * 0.12
    dx, dy = cx + ro * math.cos(math.radians(330)), cy + ro * math.sin(math.radians(330))
    ad.ellipse((dx - dot, dy - dot, dx + dot, dy + dot), fill=255)

    text = Image.new("L", (cw, ch), 0)
    td = ImageDraw.Draw(text)
    if stacked:
        tx, avail, anchor = cw / 2, cw * 0.9, "mm"
        start_size, box_top, box_h = round(ch * 0.16), cy + ro + ch * 0.04, ch * 0.3
    else:
        tx, avail, anchor = cx + r * 1.55, cw - (cx + r * 1.55) - ch * 0.06, "lm"
        start_size, box_top, box_h = round(ch * 0.3), 0.0, ch * 1.04
    tfont, lines = _fit_text(clean, start_size, avail, 2, min_size=max(8, round(ch * 0.08)))
    line_h = _font_size(tfont) * 1.12
    ty = box_top + (box_h - line_h * len(lines)) / 2
    for line in lines:
        td.text(
            (tx, ty + line_h / 2),
            line,
            font=tfont,
            fill=255,
            anchor=anchor,
            stroke_width=ss // 2 + 1,
            stroke_fill=255,
        )
        ty += line_h

    out_img = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    for mask, rgb in (
        (emblem, base),
        (accent, _shift(base, hue=0.08, light=0.1)),
        (text, text_rgb),
    ):
        layer = Image.new("RGBA", (cw, ch), (*rgb[:3], 0))
        layer.putalpha(mask)
        out_img.alpha_composite(layer)
    out_img = out_img.resize((w, h), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    out_img.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# PDF content banks
# --------------------------------------------------------------------------------------------

# The texts live in demo/data/pdf_texts.json (per language: en, de, cs); read once at import.

_Label = dict[str, str]
_Value = tuple[str, ...] | dict[str, tuple[str, ...]]


def _read_texts() -> dict[str, Any]:
    path = Path(__file__).with_name("data") / "pdf_texts.json"
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def _per_key(mapping: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in mapping.items()}


def _spec_value(values: list[str] | dict[str, list[str]]) -> _Value:
    return _per_key(values) if isinstance(values, dict) else tuple(values)


_TEXTS = _read_texts()
_STRINGS: dict[str, dict[str, str]] = _TEXTS["strings"]
_EN_SENTENCES: dict[str, tuple[str, ...]] = _per_key(_TEXTS["sentences"]["en"])
_DE_SENTENCES: tuple[str, ...] = tuple(_TEXTS["sentences"]["de"])
_CS_SENTENCES: tuple[str, ...] = tuple(_TEXTS["sentences"]["cs"])
_HEADINGS: dict[str, tuple[str, ...]] = _per_key(_TEXTS["headings"])
_TRAINING_HEADINGS: dict[str, tuple[str, ...]] = _per_key(_TEXTS["training_headings"])
_BULLETS: dict[str, tuple[str, ...]] = _per_key(_TEXTS["bullets"])
_TIPS: dict[str, tuple[str, ...]] = _per_key(_TEXTS["tips"])
_SPECS: dict[str, list[tuple[_Label, _Value]]] = {
    category: [(row["label"], _spec_value(row["values"])) for row in rows]
    for category, rows in _TEXTS["specs"].items()
}


# --------------------------------------------------------------------------------------------
# PDF building
# --------------------------------------------------------------------------------------------


def _rl(rgb: Sequence[int]) -> colors.Color:
    return colors.Color(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)


def _styles(accent: tuple[int, int, int]) -> dict[str, ParagraphStyle]:
    ink = colors.Color(0.13, 0.15, 0.19)
    grey = colors.Color(0.42, 0.45, 0.5)
    return {
        "body": ParagraphStyle(
            "body",
            fontName="Helvetica",
            fontSize=9.8,
            leading=14.2,
            textColor=ink,
            spaceAfter=7,
            alignment=TA_LEFT,
        ),
        "lead": ParagraphStyle(
            "lead",
            fontName="Helvetica",
            fontSize=11.5,
            leading=16.5,
            textColor=ink,
            spaceAfter=10,
        ),
        "meta": ParagraphStyle(
            "meta",
            fontName="Helvetica",
            fontSize=7.5,
            leading=10,
            textColor=grey,
            spaceAfter=8,
        ),
        "h1": ParagraphStyle(
            "h1",
            fontName="Helvetica-Bold",
            fontSize=13.5,
            leading=17,
            textColor=_rl(accent),
            spaceBefore=14,
            spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2",
            fontName="Helvetica-Bold",
            fontSize=10.5,
            leading=14,
            textColor=ink,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "bullet": ParagraphStyle(
            "bullet",
            fontName="Helvetica",
            fontSize=9.8,
            leading=13.6,
            textColor=ink,
            leftIndent=14,
            bulletIndent=3,
            spaceAfter=3,
            bulletColor=_rl(accent),
        ),
        "cell": ParagraphStyle(
            "cell", fontName="Helvetica", fontSize=8.8, leading=11.5, textColor=ink
        ),
        "cellb": ParagraphStyle(
            "cellb", fontName="Helvetica-Bold", fontSize=8.8, leading=11.5, textColor=ink
        ),
        "th": ParagraphStyle(
            "th", fontName="Helvetica-Bold", fontSize=8.8, leading=11.5, textColor=colors.white
        ),
        "tip": ParagraphStyle(
            "tip", fontName="Helvetica", fontSize=9.3, leading=13.2, textColor=ink
        ),
    }


def _spec_table(
    rows: list[tuple[str, str]],
    st: dict[str, ParagraphStyle],
    accent: tuple[int, int, int],
    headers: tuple[str, str],
) -> Table:
    data: list[list[Any]] = [
        [Paragraph(_markup(headers[0]), st["th"]), Paragraph(_markup(headers[1]), st["th"])]
    ]
    data += [
        [Paragraph(_markup(k), st["cellb"]), Paragraph(_markup(v), st["cell"])] for k, v in rows
    ]
    table = Table(data, colWidths=[165, _FRAME_W - 165], hAlign="LEFT")
    tint = _rl(_mix(accent, (255, 255, 255), 0.92))
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _rl(accent)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, colors.Color(0.85, 0.87, 0.9)),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), tint) for i in range(2, len(data), 2)]
    table.setStyle(TableStyle(style))
    table.spaceBefore = 2
    table.spaceAfter = 10
    return table


def _tip_box(
    label: str, text: str, st: dict[str, ParagraphStyle], accent: tuple[int, int, int]
) -> Table:
    para = Paragraph(f"<b>{_markup(label)}:</b> {_markup(text)}", st["tip"])
    box = Table([[para]], colWidths=[_FRAME_W])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), _rl(_mix(accent, (255, 255, 255), 0.9))),
                ("LINEBEFORE", (0, 0), (0, -1), 3, _rl(accent)),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    box.spaceBefore = 6
    box.spaceAfter = 10
    return box


class _Paginator:
    """Mimics reportlab's frame filling so pages can be filled exactly and counted up front.

    Groups of flowables (e.g. a heading with its first paragraph) are kept together; an explicit
    :class:`PageBreak` is inserted whenever the next group would not fit on the current page.
    """

    _SAFETY = 3.0

    def __init__(self, first_height: float, body_height: float) -> None:
        self.body_height = body_height
        self.page = 1
        self.remaining = first_height
        self.at_top = True
        self.prev_after = 0.0
        self.story: list[Flowable] = []

    def _simulate(self, group: Sequence[Flowable]) -> tuple[float, float, float] | None:
        y, at_top, prev = self.remaining, self.at_top, self.prev_after
        total = 0.0
        for f in group:
            s = 0.0 if at_top else max(f.getSpaceBefore() - prev, 0.0)
            _, h = f.wrap(_FRAME_W, self.body_height)
            y -= s + h
            total += s + h
            if y < self._SAFETY:
                return None
            prev = f.getSpaceAfter()
            y -= prev
            at_top = False
        return y, prev, total

    def _new_page(self) -> None:
        self.story.append(PageBreak())
        self.page += 1
        self.remaining = self.body_height
        self.at_top = True
        self.prev_after = 0.0

    def _try_split(self, group: Sequence[Flowable]) -> tuple[list[Flowable], Flowable] | None:
        """Split the group's trailing paragraph so that its start fills the current page.

        Keeps at least three lines on this page and two on the next (orphan/widow control).
        """
        last = group[-1]
        if not isinstance(last, Paragraph) or last.bulletText:
            return None
        head = list(group[:-1])
        if head:
            state = self._simulate(head)
            if state is None:
                return None
            y, prev, at_top = state[0], state[1], False
        else:
            y, prev, at_top = self.remaining, self.prev_after, self.at_top
        space = 0.0 if at_top else max(last.getSpaceBefore() - prev, 0.0)
        avail = y - space - self._SAFETY
        leading = float(last.style.leading)
        if avail < 3 * leading:
            return None
        last.wrap(_FRAME_W, self.body_height)
        parts = last.split(_FRAME_W, avail)
        if len(parts) != 2:
            return None
        first_h = parts[0].wrap(_FRAME_W, avail)[1]
        rest_h = parts[1].wrap(_FRAME_W, self.body_height)[1]
        if first_h > avail or first_h < 3 * leading - 0.5 or rest_h < 2 * leading - 0.5:
            return None
        return [*head, parts[0]], parts[1]

    def add(self, group: Sequence[Flowable], *, may_open_page: bool = True) -> bool:
        """Place ``group``; returns ``False`` (placing nothing) if it needs a new page but
        ``may_open_page`` is false."""
        result = self._simulate(group)
        if result is not None:
            self.story.extend(group)
            self.remaining, self.prev_after, _ = result
            self.at_top = False
            return True
        if not may_open_page:
            return False
        split = self._try_split(group)
        if split is not None:
            self.story.extend(split[0])
            self._new_page()
            return self.add([split[1]])
        if not self.at_top:
            self._new_page()
            return self.add(group)
        # taller than an empty page and not splittable here: let reportlab split it
        height = sum(f.wrap(_FRAME_W, self.body_height)[1] for f in group)
        self.story.extend(group)
        self.page += max(0, math.ceil(height / self.body_height) - 1)
        self.at_top = False
        self._new_page()
        return True


def _paragraphs(body: str) -> list[str]:
    """Split free text into paragraphs on blank lines."""
    chunks = [" ".join(p.split()) for p in body.replace("\r\n", "\n").split("\n\n")]
    return [c for c in chunks if c]


_RELATED: dict[str, tuple[str, ...]] = {
    "switch": ("switch", "wireless", "general"),
    "router": ("router", "firewall", "general"),
    "firewall": ("firewall", "router", "general"),
    "wireless": ("wireless", "switch", "general"),
    "training": ("training", "general"),
    "platform": ("switch", "router", "firewall", "wireless", "general"),
}


def _sentence_pool(lang: str, category: str) -> list[str]:
    """Sentences to draw generated paragraphs from (topic-aware for English)."""
    if lang == "de":
        return list(_DE_SENTENCES)
    if lang == "cs":
        return list(_CS_SENTENCES)
    return [sentence for topic in _RELATED[category] for sentence in _EN_SENTENCES[topic]]


def _make_paragraph_text(bag: _Bag, rng: _Rng, low: int = 3, high: int = 5) -> str:
    seen: list[str] = []
    for _ in range(rng.randint(low, high)):
        sentence = bag.take()
        if sentence not in seen:
            seen.append(sentence)
    return " ".join(seen)


def _bank_groups(
    rng: _Rng,
    bag: _Bag,
    lang: str,
    category: str,
    st: dict[str, ParagraphStyle],
    accent: tuple[int, int, int],
    used_headings: set[str],
) -> Iterator[list[Flowable]]:
    """Endless stream of generated section content, as keep-together groups."""
    heading_pool = list(_HEADINGS[lang])
    if category == "training":
        heading_pool = list(_TRAINING_HEADINGS[lang]) + heading_pool[:4]
    # headings follow the natural document order of the pool, cycling for very long documents
    headings = itertools.cycle(
        [hd for hd in heading_pool if hd not in used_headings] or heading_pool
    )
    bullets = _Bag(rng, _BULLETS[lang])
    tips = _Bag(rng, _TIPS[lang])
    section = 0
    while True:
        section += 1
        yield [
            Paragraph(_markup(next(headings)), st["h1"]),
            Paragraph(_markup(_make_paragraph_text(bag, rng)), st["body"]),
        ]
        for _ in range(rng.randint(1, 2)):
            yield [Paragraph(_markup(_make_paragraph_text(bag, rng)), st["body"])]
        if section % 3 == 2:
            yield [Paragraph(_markup(_STRINGS[lang]["highlights"]), st["h2"])]
            for _ in range(rng.randint(3, 4)):
                yield [Paragraph(_markup(bullets.take()), st["bullet"], bulletText="\u2022")]
        if section % 4 == 1:
            yield [_tip_box(_STRINGS[lang]["tip"], tips.take(), st, accent)]


def _draw_pdf_wordmark(
    c: Canvas, x: float, y: float, accent: colors.Color, scale: float = 1.0
) -> None:
    """Vendor wordmark on the PDF canvas (baseline at ``y``)."""
    c.saveState()
    c.setFillColor(accent)
    bar, gap = 4.2 * scale, 2.4 * scale
    for i, bh in enumerate((8.0, 12.5, 17.0)):
        c.roundRect(x + i * (bar + gap), y, bar, bh * scale, 1.0 * scale, stroke=0, fill=1)
    tx = x + 3 * (bar + gap) + 5 * scale
    c.setFillColor(colors.Color(0.1, 0.12, 0.16))
    text = c.beginText(tx, y)
    text.setFont("Helvetica-Bold", 15 * scale)
    text.setCharSpace(1.6 * scale)
    text.textOut(_VENDOR_WORD)
    text.setFont("Helvetica", 6.5 * scale)
    text.setCharSpace(1.4 * scale)
    text.setFillColor(colors.Color(0.42, 0.45, 0.5))
    text.textOut("  " + _VENDOR_SUB)
    c.drawText(text)
    c.restoreState()


def _make_canvas_class(footer_label: str, page_fmt: str) -> type[Canvas]:
    """Canvas that defers footers to ``save()`` so it can print "Page n of total"."""

    class _NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab API name
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self._draw_footer(total)
                super().showPage()
            super().save()

        def _draw_footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(colors.Color(0.82, 0.84, 0.88))
            self.setLineWidth(0.5)
            self.line(_MARGIN, _FOOTER_Y + 13, PAGE_W - _MARGIN, _FOOTER_Y + 13)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(colors.Color(0.42, 0.45, 0.5))
            self.drawString(_MARGIN, _FOOTER_Y, footer_label)
            self.drawRightString(
                PAGE_W - _MARGIN, _FOOTER_Y, page_fmt.format(n=self._pageNumber, total=total)
            )
            self.restoreState()

    return _NumberedCanvas


def make_pdf(
    title: str,
    *,
    subtitle: str = "",
    sections: list[tuple[str, str]] | None = None,
    pages: int = 2,
    accent: str = "#1f6feb",
    language: str = "en",
) -> bytes:
    """Build an A4 product datasheet / training guide PDF and return its bytes.

    Page 1 has a white co-branding strip with the vendor wordmark (top-right :data:`LOGO_ZONE`
    left empty), a header band in ``accent`` with document type, ``title`` and ``subtitle``, a
    lead paragraph and a specification table (course facts for training titles).  Then come
    ``sections`` (heading, body; paragraphs separated by blank lines, an empty body is filled
    with generated text) followed by generated sections until ``pages`` pages are filled.
    Every page carries a footer with "Page n of total" above the empty :data:`CONTACT_ZONE`.

    Text is set in Helvetica; characters it cannot show (e.g. Czech ``č ř ě ů``) are
    transliterated to their base letters.

    Args:
        title: Document title.
        subtitle: Optional subtitle under the title.
        sections: Optional ``[(heading, body), ...]`` placed before generated content.
        pages: Minimum number of pages (generated content fills exactly this many pages unless
            the given ``sections`` need more).
        accent: Accent colour (any Pillow colour string).
        language: ``"en"``, ``"de"`` or ``"cs"`` (others fall back to English).

    Returns:
        PDF bytes; identical arguments give byte-identical output (reportlab ``invariant``).
    """
    lang = language.lower()[:2] if language.lower()[:2] in _LANGS else "en"
    pages = max(1, int(pages))
    strings = _STRINGS[lang]
    acc_rgb = _rgb(accent)
    acc = _rl(acc_rgb)
    category = _category(title, subtitle)
    st = _styles(acc_rgb)
    rng = _Rng("pdf", title, subtitle, tuple(sections or ()), pages, lang, accent)

    doc_kind = {"training": "doc_training", "platform": "doc_platform"}.get(category, "doc_product")
    doc_type = strings[doc_kind]
    code_prefix = {"doc_training": "TG", "doc_platform": "SB"}.get(doc_kind, "DS")
    doc_code = f"{code_prefix}-{rng.randint(1000, 9999)}-{lang.upper()}"
    revision = rng.choice("ABCD")
    footer_label = _pdf_safe(f"{VENDOR_NAME}  \u00b7  {doc_code}  \u00b7  {strings['meta']}")

    # ---------------------------------------------------------------- page decorations
    def draw_cover(c: Canvas, _doc: BaseDocTemplate) -> None:
        c.saveState()
        c.setFillColor(acc)
        c.rect(0, PAGE_H - 4, PAGE_W, 4, stroke=0, fill=1)
        _draw_pdf_wordmark(c, _MARGIN, LOGO_ZONE[1] + LOGO_ZONE[3] / 2 - 7, acc, 1.15)
        # header band
        band_h = _BAND_TOP - _BAND_BOTTOM
        c.setFillColor(acc)
        c.rect(0, _BAND_BOTTOM, PAGE_W, band_h, stroke=0, fill=1)
        c.setFillColor(_rl(_mix(acc_rgb, (0, 0, 0), 0.25)))
        c.rect(0, _BAND_BOTTOM, PAGE_W, 5, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFillAlpha(0.08)
        c.circle(PAGE_W - 70, _BAND_BOTTOM + 40, 120, stroke=0, fill=1)
        c.circle(PAGE_W - 20, _BAND_TOP - 10, 70, stroke=0, fill=1)
        c.setFillAlpha(0.12)
        c.circle(PAGE_W - 150, _BAND_TOP - 40, 26, stroke=0, fill=1)
        c.restoreState()
        # band text: doc type, title, subtitle (title shrinks to fit)
        text_w = PAGE_W - 2 * _MARGIN - 60
        label = Paragraph(
            _markup(doc_type),
            ParagraphStyle(
                "lbl",
                fontName="Helvetica-Bold",
                fontSize=8.5,
                leading=11,
                textColor=colors.Color(1, 1, 1, 0.85),
            ),
        )
        sub = (
            Paragraph(
                _markup(subtitle),
                ParagraphStyle(
                    "sub",
                    fontName="Helvetica",
                    fontSize=12.5,
                    leading=16,
                    textColor=colors.Color(1, 1, 1, 0.92),
                ),
            )
            if subtitle
            else None
        )
        avail = band_h - 56
        size = 27.0
        band_title = title if len(title) <= 160 else title[:157].rstrip() + "..."
        while True:
            ttl = Paragraph(
                _markup(band_title),
                ParagraphStyle(
                    "ttl",
                    fontName="Helvetica-Bold",
                    fontSize=size,
                    leading=size * 1.15,
                    textColor=colors.white,
                ),
            )
            _, th = ttl.wrap(text_w, PAGE_H)
            sh = sub.wrap(text_w, PAGE_H)[1] + 6 if sub else 0
            if th + sh <= avail - 14 or size <= 12:
                break
            size -= 1.5
        _, lh = label.wrap(text_w, PAGE_H)
        y = _BAND_TOP - 24 - lh
        label.drawOn(c, _MARGIN, y)
        y -= 8 + th
        ttl.drawOn(c, _MARGIN, y)
        if sub:
            y -= 6 + sub.wrap(text_w, PAGE_H)[1]
            sub.drawOn(c, _MARGIN, y)

    def draw_body(c: Canvas, _doc: BaseDocTemplate) -> None:
        c.saveState()
        c.setFillColor(acc)
        c.rect(0, PAGE_H - 4, PAGE_W, 4, stroke=0, fill=1)
        _draw_pdf_wordmark(c, _MARGIN, PAGE_H - 50, acc, 0.8)
        c.setFont("Helvetica", 8)
        c.setFillColor(colors.Color(0.42, 0.45, 0.5))
        short = title if len(title) <= 70 else title[:67].rstrip() + "..."
        c.drawRightString(PAGE_W - _MARGIN, PAGE_H - 48, _pdf_safe(short))
        c.setStrokeColor(colors.Color(0.82, 0.84, 0.88))
        c.setLineWidth(0.5)
        c.line(_MARGIN, PAGE_H - 60, PAGE_W - _MARGIN, PAGE_H - 60)
        c.restoreState()

    # ---------------------------------------------------------------- story
    cover_h = _COVER_FRAME_TOP - _FRAME_BOTTOM
    body_h = _BODY_FRAME_TOP - _FRAME_BOTTOM
    pg = _Paginator(cover_h, body_h)
    meta = f"{doc_code}  \u00b7  {strings['rev']} {revision}  \u00b7  {strings['meta']}"
    pg.add([Paragraph(_markup(meta), st["meta"])])
    pool_bag = _Bag(rng, _sentence_pool(lang, category))
    lead = strings["intro"].format(title=title) + " " + _make_paragraph_text(pool_bag, rng, 1, 2)
    pg.add([Paragraph(_markup(lead), st["lead"])])
    spec_rows = []
    for label_map, value in _SPECS[category]:
        options = value[lang] if isinstance(value, dict) else value
        spec_rows.append((label_map[lang], rng.choice(options)))
    table_heading = strings["course"] if category == "training" else strings["specs"]
    pg.add(
        [
            Paragraph(_markup(table_heading), st["h1"]),
            _spec_table(spec_rows, st, acc_rgb, (strings["spec"], strings["value"])),
        ]
    )

    used: set[str] = set()
    for heading, body in sections or []:
        used.add(heading)
        texts = _paragraphs(body) or [
            _make_paragraph_text(pool_bag, rng) for _ in range(rng.randint(2, 3))
        ]
        paras = [Paragraph(_markup(t), st["body"]) for t in texts]
        pg.add([Paragraph(_markup(heading), st["h1"]), paras[0]])
        for para in paras[1:]:
            pg.add([para])

    generated = _bank_groups(rng, pool_bag, lang, category, st, acc_rgb, used)
    for _ in range(400 * pages):  # hard bound; normally ends when the last page is full
        group = next(generated)
        if not pg.add(group, may_open_page=pg.page < pages):
            break

    # ---------------------------------------------------------------- build
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=PAGE_H - _BODY_FRAME_TOP,
        bottomMargin=_FRAME_BOTTOM,
        title=title,
        author=VENDOR_NAME,
        subject=subtitle or doc_type.title(),
        creator=f"{VENDOR_NAME} demo asset generator",
        keywords=f"{category}, {lang}, demo",
        invariant=1,
        lang=lang,
    )
    frame_kw = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    cover_frame = Frame(_MARGIN, _FRAME_BOTTOM, _FRAME_W, cover_h, id="cover", **frame_kw)
    body_frame = Frame(_MARGIN, _FRAME_BOTTOM, _FRAME_W, body_h, id="body", **frame_kw)
    doc.addPageTemplates(
        [
            PageTemplate(
                id="cover", frames=[cover_frame], onPage=draw_cover, autoNextPageTemplate="body"
            ),
            PageTemplate(id="body", frames=[body_frame], onPage=draw_body),
        ]
    )
    doc.build(pg.story, canvasmaker=_make_canvas_class(footer_label, strings["page"]))
    return buf.getvalue()
