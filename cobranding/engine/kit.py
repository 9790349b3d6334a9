"""The brand kit as the engine sees it (plain values, no model) and the render result."""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass

from .errors import CobrandError, LayoutError
from .layout import _HEX, KIT_COLORS, TEXT_FIELDS


@dataclass(frozen=True)
class BrandKit:
    """What a co-brand shows of a partner organisation. ``address`` may hold several lines
    (each drawn on its own line); the other fields are single lines. Colours are ``#rrggbb``.
    ``logo`` is the logo file's bytes (PNG/JPEG/GIF/WebP), or None: then each logo zone shows
    the company ``name`` as text instead of staying blank."""

    name: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_web: str = ""
    address: str = ""
    primary_color: str = "#1f3a5f"
    secondary_color: str = "#ffffff"
    logo: bytes | None = None

    def lines(self, field: str) -> list[str]:
        """The non-blank lines ``field`` contributes to a text zone."""
        if field not in TEXT_FIELDS:
            raise LayoutError(f"unknown brand-kit field {field!r}.")
        value = getattr(self, field) or ""
        if field == "address":
            raw = value.splitlines()
        else:
            raw = [" ".join(value.split())]
        return [" ".join(line.split()) for line in raw if line.strip()]

    def color(self, value: str) -> tuple[int, int, int]:
        """A layout colour (``#rrggbb``, ``primary`` or ``secondary``) as RGB."""
        if value in KIT_COLORS:
            which = value
            value = (self.primary_color if value == "primary" else self.secondary_color) or ""
            if re.match(r"^#[0-9a-fA-F]{3}$", value):  # #abc, as CSS writes it
                value = "#" + "".join(c * 2 for c in value[1:])
            if not _HEX.match(value):
                raise CobrandError(f"The brand kit's {which} colour {value!r} is not #rrggbb.")
        if not _HEX.match(value):
            raise LayoutError(f"colour {value!r} is not #rrggbb.")
        return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


@dataclass(frozen=True)
class Rendered:
    """A finished render: the file's bytes, its extension (with the dot) and media type."""

    content: bytes
    ext: str
    media_type: str


@functools.cache
def _sample_logo() -> bytes:
    from PIL import Image, ImageDraw

    from .fonts import image_font

    logo = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, 359, 119), radius=24, fill=(230, 0, 120, 255))
    draw.text((180, 60), "LOGO", font=image_font(64, bold=True), fill="white", anchor="mm")
    out = io.BytesIO()
    logo.save(out, format="PNG")
    return out.getvalue()


def sample_kit() -> BrandKit:
    """A made-up brand kit for previews in the admin (a generated logo, contact fields with
    diacritics so an editor sees the fit of realistic text)."""
    return BrandKit(
        name="Sample Partner s.r.o.",
        contact_name="Zuzana Nováková-Přibylová",
        contact_phone="+420 123 456 789",
        contact_email="zuzana.novakova@sample-partner.example",
        contact_web="www.sample-partner.example",
        address="Náměstí Míru 15\n120 00 Praha 2",
        primary_color="#1f3a5f",
        secondary_color="#ffffff",
        logo=_sample_logo(),
    )
