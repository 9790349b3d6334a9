"""The co-branding engine: pure functions from (master bytes, layout, brand kit) to a rendered
file, and per-download stamps. No Django here (the ``cobranding`` app wires it to storage,
models and tasks); see docs/cobranding-engine.md."""

from .errors import (
    CobrandError,
    LayoutError,
    LogoError,
    MasterError,
    TextDoesNotFit,
    UnsupportedScript,
)
from .image import render_image
from .kit import BrandKit, Rendered, sample_kit
from .layout import (
    TEXT_FIELDS,
    Band,
    Box,
    Layout,
    LogoZone,
    TextZone,
    default_layout,
    layout_from_json,
    layout_to_json,
    validate_layout,
)
from .pdf import render_pdf
from .stamp import STAMP_KEY, read_stamp, stamp

__all__ = [
    "STAMP_KEY",
    "TEXT_FIELDS",
    "Band",
    "Box",
    "BrandKit",
    "CobrandError",
    "Layout",
    "LayoutError",
    "LogoError",
    "LogoZone",
    "MasterError",
    "Rendered",
    "TextDoesNotFit",
    "TextZone",
    "clear_caches",
    "UnsupportedScript",
    "default_layout",
    "layout_from_json",
    "layout_to_json",
    "read_stamp",
    "render_image",
    "render_pdf",
    "sample_kit",
    "stamp",
    "validate_layout",
]


def clear_caches() -> None:
    """Forget the engine's caches (decoded and scaled logos, the logo's PDF samples): for
    benchmarks measuring a first render, and tests."""
    import importlib

    image = importlib.import_module(".image", __name__)
    pdf = importlib.import_module(".pdf", __name__)
    image.decoded_logo.cache_clear()
    image._scaled_logo.cache_clear()
    pdf._logo_streams.cache_clear()
