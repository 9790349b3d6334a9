"""The engine's errors: each carries a message a partner or editor can read (``str(exc)``)."""

from __future__ import annotations


class CobrandError(ValueError):
    """Base of every error the engine raises on bad input (never on a bug of its own)."""


class LayoutError(CobrandError):
    """The layout is malformed or does not fit the master (zone outside the page, a page the
    document does not have, an unknown field...). The message names the zone."""


class MasterError(CobrandError):
    """The master file cannot be co-branded: corrupt, encrypted, too large, not an image/PDF."""


class LogoError(CobrandError):
    """The brand kit's logo is not a usable image (corrupt, not an image, too large)."""


class TextDoesNotFit(CobrandError):
    """A text zone's lines do not fit its box even at the zone's smallest font size."""

    def __init__(self, message: str, *, zone: str = "", field: str = "") -> None:
        super().__init__(message)
        self.zone = zone
        self.field = field


class UnsupportedScript(CobrandError):
    """Text holds characters the bundled font has no glyph for (it would draw empty boxes)."""

    def __init__(self, message: str, *, field: str = "", characters: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.characters = characters
