"""The bundled font (Noto Sans, SIL OFL 1.1: ``fonts/OFL.txt``) and its coverage check.

One font for images (Pillow) and PDFs (reportlab, embedded as a subset), so a layout measures
the same in both. Noto Sans covers Latin with its extensions (cs, pl, de, hu, ro, tr...), Greek
and Cyrillic; anything else (CJK, Arabic, Hebrew, Devanagari...) is refused with
``UnsupportedScript`` naming the characters, never drawn as empty boxes.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from pathlib import Path

from PIL import ImageFont

from .errors import UnsupportedScript

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONT_DIR / "NotoSans-Regular.ttf"
BOLD = FONT_DIR / "NotoSans-Bold.ttf"
PDF_FONT = "PortalNotoSans"
PDF_FONT_BOLD = "PortalNotoSans-Bold"

_register_lock = threading.Lock()


@functools.cache
def _reportlab_font(path: str, name: str):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(name, path)
    with _register_lock:
        pdfmetrics.registerFont(font)
    return font


def pdf_font(bold: bool = False):
    """The reportlab ``TTFont`` (registered once per process) and its registered name."""
    name = PDF_FONT_BOLD if bold else PDF_FONT
    return _reportlab_font(str(BOLD if bold else REGULAR), name), name


@functools.cache
def _covered() -> frozenset[int]:
    regular, _ = pdf_font()
    bold, _ = pdf_font(bold=True)
    return frozenset(regular.face.charToGlyph) & frozenset(bold.face.charToGlyph)


_thread_fonts = threading.local()


def image_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size`` pixels for Pillow, cached per thread: loading costs a few
    ms, and one FreeType face must not render in two threads at once."""
    cache = getattr(_thread_fonts, "cache", None)
    if cache is None:
        cache = _thread_fonts.cache = {}
    key = (size, bold)
    font = cache.get(key)
    if font is None:
        if len(cache) > 256:
            cache.clear()
        font = cache[key] = ImageFont.truetype(str(BOLD if bold else REGULAR), size)
    return font


def _needs_glyph(char: str) -> bool:
    # Line breaks and other controls are never drawn; format characters (zero-width joiners,
    # direction marks) have no glyph of their own.
    return unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")


def missing_characters(text: str) -> str:
    """The distinct characters of ``text`` the bundled font cannot draw, in order."""
    covered = _covered()
    missing: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered and _needs_glyph(char):
            missing[char] = None
    return "".join(missing)


def check_coverage(text: str, field: str) -> None:
    """Raise ``UnsupportedScript`` naming ``field`` and the characters when the bundled font
    lacks any of ``text``'s characters."""
    missing = missing_characters(text)
    if missing:
        shown = " ".join(f"{char} (U+{ord(char):04X})" for char in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise UnsupportedScript(
            f"The {field.replace('_', ' ')} has characters the co-brand font cannot show: "
            f"{shown}{more}. Supported are Latin (with accents), Greek and Cyrillic.",
            field=field,
            characters=missing,
        )
