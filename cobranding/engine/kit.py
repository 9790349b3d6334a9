"""The brand kit as the engine sees it (plain values, no model) and the render result."""

from __future__ import annotations

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
