"""The layout model: where a brand kit goes on a master, as plain data.

Boxes are fractions (0..1) of the page or image as it is displayed (after EXIF orientation for
images, after /Rotate and within the CropBox for PDF pages), origin top-left, so one layout fits
every size of the same design. JSON (``layout_to_json``/``layout_from_json``) is how templates
store it; ``layout_from_json`` validates everything and raises ``LayoutError`` naming the zone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import LayoutError

LAYOUT_FORMAT = 1
TEXT_FIELDS = ("name", "contact_name", "contact_phone", "contact_email", "contact_web", "address")
ALIGNS = ("start", "center", "end")
KIT_COLORS = ("primary", "secondary")
MAX_FONT_SIZE = 500.0
MAX_PAGE = 10_000
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Float noise from an editor's drag-and-drop (0.1 + 0.9) must not fail "inside the page".
_EPS = 1e-6


@dataclass(frozen=True)
class Box:
    """A rectangle in fractions of the page/image: (x, y) its top-left corner, w × h its size."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class LogoZone:
    """Where the logo goes: scaled to fit ``box`` keeping its aspect ratio, placed at the
    ``align`` side horizontally (start = left) and centred vertically."""

    box: Box
    page: int = 1
    align: str = "center"


@dataclass(frozen=True)
class TextZone:
    """Brand-kit ``fields`` one per line (blank fields skipped) in ``box``. ``font_size`` is in
    pixels on images and points on PDFs; the engine shrinks it down to ``min_font_size`` until
    every line fits, else raises ``TextDoesNotFit``. ``color`` is ``#rrggbb`` or a kit colour
    (``primary``/``secondary``)."""

    box: Box
    fields: tuple[str, ...] = ("contact_name", "contact_phone", "contact_email", "contact_web")
    page: int = 1
    font_size: float = 12.0
    color: str = "secondary"
    align: str = "start"
    min_font_size: float = 6.0

    def __post_init__(self) -> None:
        if not isinstance(self.fields, tuple):
            object.__setattr__(self, "fields", tuple(self.fields))


@dataclass(frozen=True)
class Band:
    """A filled rectangle in ``color`` (``#rrggbb`` or a kit colour) behind the zones, drawn on
    every page of ``Layout.pages``."""

    box: Box
    color: str = "primary"

    def __getitem__(self, key: str) -> Any:
        # The brief's contract wrote the band as a dict {"color", "box"}: both spellings work.
        if key not in ("box", "color"):
            raise KeyError(key)
        return getattr(self, key)


@dataclass(frozen=True)
class Layout:
    """A whole co-brand design. ``pages`` (1-based) are the PDF pages the band (if any) is
    drawn on; each zone names its own page. Images have one page. ``watermark`` records that the
    template wants the visible watermark (the caller passes ``watermark_text`` to the render)."""

    logo_zones: tuple[LogoZone, ...] = ()
    text_zones: tuple[TextZone, ...] = ()
    pages: tuple[int, ...] = (1,)
    band: Band | None = None
    watermark: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "logo_zones", tuple(self.logo_zones))
        object.__setattr__(self, "text_zones", tuple(self.text_zones))
        object.__setattr__(self, "pages", tuple(self.pages))
        if isinstance(self.band, Mapping):
            object.__setattr__(self, "band", _band(self.band, "band"))

    @property
    def all_pages(self) -> tuple[int, ...]:
        """Every page something is drawn on, ascending."""
        pages = set(self.pages) if self.band else set()
        pages.update(zone.page for zone in self.logo_zones)
        pages.update(zone.page for zone in self.text_zones)
        return tuple(sorted(pages))


# --- JSON ---------------------------------------------------------------------------------------


def _box_json(box: Box) -> dict[str, float]:
    return {"x": box.x, "y": box.y, "w": box.w, "h": box.h}


def layout_to_json(layout: Layout) -> dict[str, Any]:
    """``layout`` as a JSON-able dict (the inverse of ``layout_from_json``)."""
    return {
        "format": LAYOUT_FORMAT,
        "pages": list(layout.pages),
        "band": (
            None
            if layout.band is None
            else {"box": _box_json(layout.band.box), "color": layout.band.color}
        ),
        "watermark": layout.watermark,
        "logo_zones": [
            {"box": _box_json(zone.box), "page": zone.page, "align": zone.align}
            for zone in layout.logo_zones
        ],
        "text_zones": [
            {
                "box": _box_json(zone.box),
                "page": zone.page,
                "fields": list(zone.fields),
                "font_size": zone.font_size,
                "min_font_size": zone.min_font_size,
                "color": zone.color,
                "align": zone.align,
            }
            for zone in layout.text_zones
        ],
    }


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise LayoutError(f"{where}: expected an object, got {type(value).__name__}.")
    return value


def _keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(data) - set(allowed), key=str)
    if unknown:
        raise LayoutError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}.")


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LayoutError(f"{where}: {name} must be a number, got {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise LayoutError(f"{where}: {name} must be a finite number, got {value!r}.")
    return number


def _page(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayoutError(f"{where}: page must be a whole number, got {value!r}.")
    if not 1 <= value <= MAX_PAGE:
        raise LayoutError(f"{where}: page must be 1 or more, got {value}.")
    return value


def _box(value: Any, where: str) -> Box:
    data = _mapping(value, f"{where} box")
    _keys(data, "xywh", f"{where} box")
    missing = [key for key in "xywh" if key not in data]
    if missing:
        raise LayoutError(f"{where} box: missing {', '.join(missing)}.")
    box = Box(*(_number(data[key], f"{where} box", key) for key in "xywh"))
    check_box(box, where)
    return box


def check_box(box: Box, where: str) -> None:
    """Raise ``LayoutError`` unless ``box`` has a size and lies inside the page."""
    for name in "xywh":
        value = getattr(box, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise LayoutError(f"{where}: box {name} must be a finite number, got {value!r}.")
    if box.w <= 0 or box.h <= 0:
        raise LayoutError(f"{where}: the box needs a width and a height above 0.")
    if box.x < -_EPS or box.y < -_EPS:
        raise LayoutError(f"{where}: the box starts outside the page (x and y must be 0 or more).")
    if box.x + box.w > 1 + _EPS:
        raise LayoutError(
            f"{where}: the box runs off the right edge of the page "
            f"(x + w = {box.x + box.w:.3f}, at most 1)."
        )
    if box.y + box.h > 1 + _EPS:
        raise LayoutError(
            f"{where}: the box runs off the bottom edge of the page "
            f"(y + h = {box.y + box.h:.3f}, at most 1)."
        )


def _color(value: Any, where: str) -> str:
    if not isinstance(value, str) or not (value in KIT_COLORS or _HEX.match(value)):
        raise LayoutError(
            f"{where}: colour must be #rrggbb, 'primary' or 'secondary', got {value!r}."
        )
    return value.lower() if value.startswith("#") else value


def _align(value: Any, where: str) -> str:
    if value not in ALIGNS:
        raise LayoutError(f"{where}: align must be start, center or end, got {value!r}.")
    return str(value)


def _band(value: Any, where: str) -> Band:
    data = _mapping(value, where)
    _keys(data, ("box", "color"), where)
    if "box" not in data:
        raise LayoutError(f"{where}: missing box.")
    box = data["box"] if isinstance(data["box"], Box) else _box(data["box"], where)
    check_box(box, where)
    return Band(box=box, color=_color(data.get("color", "primary"), where))


def _logo_zone(value: Any, where: str) -> LogoZone:
    data = _mapping(value, where)
    _keys(data, ("box", "page", "align"), where)
    if "box" not in data:
        raise LayoutError(f"{where}: missing box.")
    return LogoZone(
        box=_box(data["box"], where),
        page=_page(data.get("page", 1), where),
        align=_align(data.get("align", "center"), where),
    )


def _text_zone(value: Any, where: str) -> TextZone:
    data = _mapping(value, where)
    _keys(data, ("box", "page", "fields", "font_size", "min_font_size", "color", "align"), where)
    if "box" not in data:
        raise LayoutError(f"{where}: missing box.")
    fields = data.get("fields", TextZone.fields)
    if isinstance(fields, str) or not isinstance(fields, list | tuple) or not fields:
        raise LayoutError(f"{where}: fields must be a non-empty list of brand-kit fields.")
    for name in fields:
        if name not in TEXT_FIELDS:
            raise LayoutError(f"{where}: unknown field {name!r} (known: {', '.join(TEXT_FIELDS)}).")
    font_size = _number(data.get("font_size", TextZone.font_size), where, "font_size")
    min_font_size = _number(
        data.get("min_font_size", min(TextZone.min_font_size, font_size)), where, "min_font_size"
    )
    if not 1 <= min_font_size <= font_size <= MAX_FONT_SIZE:
        raise LayoutError(
            f"{where}: font sizes must satisfy 1 ≤ min_font_size ≤ font_size ≤ "
            f"{MAX_FONT_SIZE:g} (got {min_font_size:g} and {font_size:g})."
        )
    return TextZone(
        box=_box(data["box"], where),
        fields=tuple(fields),
        page=_page(data.get("page", 1), where),
        font_size=font_size,
        min_font_size=min_font_size,
        color=_color(data.get("color", TextZone.color), where),
        align=_align(data.get("align", TextZone.align), where),
    )


def layout_from_json(data: Any) -> Layout:
    """A validated ``Layout`` from its JSON form; raises ``LayoutError`` with a message naming
    the zone ("text zone 2: ...") on anything malformed."""
    data = _mapping(data, "layout")
    _keys(data, ("format", "pages", "band", "watermark", "logo_zones", "text_zones"), "layout")
    if data.get("format", LAYOUT_FORMAT) != LAYOUT_FORMAT:
        raise LayoutError(f"layout: unknown format {data.get('format')!r}.")
    pages = data.get("pages", [1])
    if isinstance(pages, str) or not isinstance(pages, list | tuple) or not pages:
        raise LayoutError("layout: pages must be a non-empty list of page numbers.")
    page_numbers = tuple(sorted({_page(page, "layout pages") for page in pages}))
    watermark = data.get("watermark", False)
    if not isinstance(watermark, bool):
        raise LayoutError("layout: watermark must be true or false.")
    logo_zones = data.get("logo_zones", [])
    text_zones = data.get("text_zones", [])
    for name, zones in (("logo_zones", logo_zones), ("text_zones", text_zones)):
        if not isinstance(zones, list | tuple):
            raise LayoutError(f"layout: {name} must be a list.")
    band = data.get("band")
    layout = Layout(
        logo_zones=tuple(
            _logo_zone(zone, f"logo zone {index}") for index, zone in enumerate(logo_zones, 1)
        ),
        text_zones=tuple(
            _text_zone(zone, f"text zone {index}") for index, zone in enumerate(text_zones, 1)
        ),
        pages=page_numbers,
        band=None if band is None else _band(band, "band"),
        watermark=watermark,
    )
    if not layout.logo_zones and not layout.text_zones:
        raise LayoutError("layout: it needs at least one logo zone or text zone.")
    return layout


def validate_layout(layout: Layout) -> Layout:
    """Check a ``Layout`` built in code the way ``layout_from_json`` checks JSON."""
    return layout_from_json(layout_to_json(layout))


# --- the default ------------------------------------------------------------------------------

# The improved bottom band (issue #13): never more than 18 % of the height, the logo at the end
# side, the contact fields at the start side in text that shrinks to fit (or a clear error).
DEFAULT_BAND_HEIGHT = 0.18
_PAD_Y = 0.02  # of the page height, above and below the zones inside the band
_PAD_X = 0.025  # of the page width


def default_layout(kind: str) -> Layout:
    """The layout used when an item has no co-brand template: a band in the primary colour
    along the bottom edge (at most ``DEFAULT_BAND_HEIGHT`` of the height) with the contact
    fields on the start side in the secondary colour and the logo on the end side. On a PDF it
    goes on page 1. ``kind`` is ``"image"`` or ``"pdf"``."""
    if kind not in ("image", "pdf"):
        raise LayoutError(f"default layout: kind must be 'image' or 'pdf', got {kind!r}.")
    top = 1 - DEFAULT_BAND_HEIGHT
    inner_y, inner_h = top + _PAD_Y, DEFAULT_BAND_HEIGHT - 2 * _PAD_Y
    # Images: a large start size shrinks to the band's height, so the text scales with the image
    # (font sizes are absolute pixels). PDFs: points, a readable print size.
    font_size, min_size = (160.0, 6.0) if kind == "image" else (11.0, 5.0)
    return Layout(
        band=Band(box=Box(0.0, top, 1.0, DEFAULT_BAND_HEIGHT), color="primary"),
        logo_zones=(LogoZone(box=Box(0.72, inner_y, 1 - 0.72 - _PAD_X, inner_h), align="end"),),
        text_zones=(
            TextZone(
                box=Box(_PAD_X, inner_y, 0.68 - _PAD_X, inner_h),
                fields=("contact_name", "contact_phone", "contact_email", "contact_web"),
                font_size=font_size,
                min_font_size=min_size,
                color="secondary",
                align="start",
            ),
        ),
        pages=(1,),
    )
