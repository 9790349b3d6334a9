"""Co-branding images with Pillow: the master keeps its size and format (a JPEG stays a JPEG at
quality 90, a PNG stays a PNG, anything else becomes a PNG)."""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from .errors import CobrandError, LayoutError, LogoError, MasterError, TextDoesNotFit
from .fonts import check_coverage, image_font
from .kit import BrandKit, Rendered
from .layout import Box, Layout, LogoZone, TextZone, check_box, validate_layout
from .text import Fitted, Line, fit, rows_at, zone_lines

MAX_MASTER_PIXELS = 50_000_000  # 50 MP: a 8660 × 5773 print banner; RGBA in memory ≈ 200 MB
MAX_LOGO_PIXELS = 25_000_000
MAX_LOGO_SIDE = 12_000
JPEG_QUALITY = 90
WATERMARK_ALPHA = 70  # of 255: visible, the artwork stays readable
WATERMARK_GREY = (128, 128, 128)


@functools.cache
def _line_metrics(size: int) -> tuple[int, int]:
    ascent, descent = image_font(size).getmetrics()
    return ascent, descent


def _line_height(size: float) -> float:
    ascent, descent = _line_metrics(int(size))
    return ascent + descent


def _text_width(text: str, size: float) -> float:
    # The advance width (what the pen moves), rounded up: Noto Sans' ink stays within it.
    return math.ceil(image_font(int(size)).getlength(text))


# Measuring at every candidate size would load the font at each (a few ms apiece): the search
# runs on widths and heights scaled from one reference size, then the chosen size is checked
# with the real font at that size (stepping down while it does not fit, rarely more than once).
_REFERENCE = 200


@functools.lru_cache(maxsize=1024)
def _reference_width(text: str) -> float:
    return image_font(_REFERENCE).getlength(text)


def _estimated_width(text: str, size: float) -> float:
    return _reference_width(text) * size / _REFERENCE * 1.01 + 1


def _estimated_line_height(size: float) -> float:
    ascent, descent = _line_metrics(_REFERENCE)
    return math.ceil((ascent + descent) * size / _REFERENCE) + 1


def _open(
    content: bytes,
    *,
    max_pixels: int,
    error: type[Exception],
    what: str,
    max_side: int | None = None,
) -> Image.Image:
    """Decode ``content`` (headers first: the size is checked before pixels are decoded)."""
    if not content:
        raise error(f"The {what} is empty.")
    head = content[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in content[:4096].lower():
        raise error(f"The {what} is an SVG drawing; upload it as PNG or JPEG.")
    # Our limits are below Pillow's bomb threshold (89 MP warns, 178 MP raises), so the size
    # check below refuses first; Pillow's error (or its warning, where warnings are errors) is
    # caught too. No warnings.catch_warnings(): it is not thread-safe.
    try:
        image = Image.open(io.BytesIO(content))
        width, height = image.size
        if width * height > max_pixels:
            raise error(
                f"The {what} is {width} × {height} pixels, more than the "
                f"{max_pixels // 1_000_000} megapixels allowed."
            )
        if max_side is not None and max(width, height) > max_side:
            raise error(
                f"The {what} is {width} × {height} pixels; its sides may be at most "
                f"{max_side} pixels."
            )
        image.load()
    except CobrandError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise error(f"The {what} has too many pixels to be opened safely.") from exc
    except UnidentifiedImageError as exc:
        raise error(f"The {what} is not an image in a format we can read (PNG, JPEG…).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise error(f"The {what} is damaged and cannot be read ({exc}).") from exc
    return image


def open_logo(content: bytes) -> Image.Image:
    """The brand kit's logo as an RGBA image (EXIF orientation applied), or ``LogoError``."""
    image = _open(
        content, max_pixels=MAX_LOGO_PIXELS, error=LogoError, what="logo", max_side=MAX_LOGO_SIDE
    )
    try:
        image = ImageOps.exif_transpose(image)
        return image.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise LogoError(f"The logo is damaged and cannot be read ({exc}).") from exc


@dataclass(frozen=True)
class PixelBox:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def pixel_box(box: Box, width: int, height: int) -> PixelBox:
    """``box`` in whole pixels of a ``width`` × ``height`` image (edges rounded)."""
    return PixelBox(
        round(box.x * width),
        round(box.y * height),
        min(width, round((box.x + box.w) * width)),
        min(height, round((box.y + box.h) * height)),
    )


def fit_logo(logo_size: tuple[int, int], box_size: tuple[float, float]) -> tuple[int, int]:
    """The logo's size scaled (up or down) to fit ``box_size`` with its aspect ratio kept."""
    lw, lh = logo_size
    bw, bh = box_size
    scale = min(bw / lw, bh / lh)
    # floor: never a pixel wider than the box
    return max(1, min(int(bw), math.floor(lw * scale + 1e-6))), max(
        1, min(int(bh), math.floor(lh * scale + 1e-6))
    )


def aligned(start: float, space: float, size: float, align: str) -> float:
    """Where something of ``size`` starts in ``space`` from ``start`` for ``align``."""
    if align == "start":
        return start
    if align == "end":
        return start + space - size
    return start + (space - size) / 2


def check_pages(layout: Layout, page_count: int, what: str) -> None:
    """``LayoutError`` when a zone or the band names a page ``what`` does not have."""
    for kind, zones in (("logo zone", layout.logo_zones), ("text zone", layout.text_zones)):
        for index, zone in enumerate(zones, 1):
            check_box(zone.box, f"{kind} {index}")
            if zone.page > page_count:
                raise LayoutError(
                    f"{kind} {index} is on page {zone.page} but the {what} has "
                    f"{page_count} page{'s' if page_count != 1 else ''}."
                )
    if layout.band is not None:
        check_box(layout.band.box, "band")
        for page in layout.pages:
            if page > page_count:
                raise LayoutError(
                    f"the band is on page {page} but the {what} has "
                    f"{page_count} page{'s' if page_count != 1 else ''}."
                )


@dataclass(frozen=True)
class _TextPlan:
    zone: TextZone
    where: str
    rows: tuple[str, ...]
    size: int
    box: PixelBox


def _plan_text(zone: TextZone, where: str, lines: list[Line], box: PixelBox) -> _TextPlan:
    top = max(1, math.floor(zone.font_size))
    bottom = max(1, math.ceil(zone.min_font_size))
    sizes = list(range(min(bottom, top), top + 1))
    measures = {"width": box.width, "height": box.height, "where": where, "unit": "px"}
    try:
        estimate = fit(
            lines,
            sizes=sizes,
            line_height=_estimated_line_height,
            text_width=_estimated_width,
            **measures,
        )
        start = sizes.index(int(estimate.size))
    except TextDoesNotFit:
        start = 0  # the estimate is a little pessimistic: let the real measure decide

    # Confirm with the real font: up from the estimate while the next size still fits (the
    # estimate errs small), else down until one fits; the error (if any) from the real measure.
    def real(index: int) -> list[str] | None:
        return rows_at(
            lines, sizes[index], line_height=_line_height, text_width=_text_width, **measures
        )

    index = start
    rows = real(index)
    if rows is not None:
        while index + 1 < len(sizes) and index - start < 3:
            larger = real(index + 1)
            if larger is None:
                break
            index, rows = index + 1, larger
    else:
        while rows is None and index > 0:
            index -= 1
            rows = real(index)
    if rows is None:
        fit(lines, sizes=sizes[:1], line_height=_line_height, text_width=_text_width, **measures)
    fitted = Fitted(sizes[index], tuple(rows or ()))
    return _TextPlan(zone, where, fitted.rows, int(fitted.size), box)


def _draw_text(draw: ImageDraw.ImageDraw, plan: _TextPlan, kit: BrandKit, alpha: bool) -> None:
    if not plan.rows:
        return
    font = image_font(plan.size)
    ascent, descent = _line_metrics(plan.size)
    line_height = ascent + descent
    block = line_height * len(plan.rows)
    # The block is centred vertically in its zone; each line aligned on its own.
    y = plan.box.top + (plan.box.height - block) // 2
    color = kit.color(plan.zone.color)
    fill = (*color, 255) if alpha else color
    for row in plan.rows:
        left, _, _, _ = font.getbbox(row, anchor="ls")
        width = _text_width(row, plan.size)
        x = aligned(plan.box.left, plan.box.width, width, plan.zone.align) - min(left, 0)
        draw.text((x, y + ascent), row, font=font, fill=fill, anchor="ls")
        y += line_height


def _logo_fallback_zone(zone: LogoZone, layout: Layout) -> TextZone:
    # No logo: the company name in the logo's place, in the colour that reads on the band.
    return TextZone(
        box=zone.box,
        fields=("name",),
        page=zone.page,
        font_size=500.0,
        min_font_size=6.0,
        color="secondary" if layout.band is not None else "primary",
        align=zone.align,
    )


@functools.lru_cache(maxsize=4)
def decoded_logo(content: bytes) -> Image.Image:
    """``open_logo`` remembered for the last few logos (callers must not modify it)."""
    return open_logo(content)


@functools.lru_cache(maxsize=8)
def _scaled_logo(logo_bytes: bytes, size: tuple[int, int]) -> Image.Image:
    logo = decoded_logo(logo_bytes)
    if logo.size == size:
        return logo
    return logo.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _watermark(image: Image.Image, text: str) -> None:
    """``text`` across the image's diagonal, grey and mostly transparent (in place)."""
    width, height = image.size
    angle = math.degrees(math.atan2(height, width))
    diagonal = math.hypot(width, height)
    size = 10
    probe = image_font(100)
    text_width = probe.getlength(text) or 1
    size = max(8, min(int(100 * diagonal * 0.7 / text_width), int(min(width, height) * 0.25)))
    font = image_font(size)
    ascent, descent = font.getmetrics()
    layer_w = int(font.getlength(text)) + 4
    layer_h = ascent + descent + 4
    mask = Image.new("L", (layer_w, layer_h), 0)
    ImageDraw.Draw(mask).text((2, 2 + ascent), text, font=font, fill=WATERMARK_ALPHA, anchor="ls")
    mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = (width - mask.width) // 2
    y = (height - mask.height) // 2
    # Crop the rotated mask to the image (it may be wider than a narrow image).
    crop = mask.crop((max(0, -x), max(0, -y), max(0, -x) + width, max(0, -y) + height))
    fill = WATERMARK_GREY + ((255,) if image.mode == "RGBA" else ())
    solid = Image.new(image.mode, crop.size, fill)
    image.paste(solid, (max(0, x), max(0, y)), crop)


def render_image(
    master: bytes, layout: Layout, kit: BrandKit, *, watermark_text: str | None = None
) -> Rendered:
    """``master`` (image bytes) co-branded with ``kit`` per ``layout``.

    Everything that can fail (the master, the logo, the fonts' coverage, the fit of every
    text zone) is checked before the first pixel is drawn.
    """
    validate_layout(layout)
    check_pages(layout, 1, "image")
    source = _open(master, max_pixels=MAX_MASTER_PIXELS, error=MasterError, what="master image")
    fmt = source.format
    icc = source.info.get("icc_profile")
    try:
        # exif_transpose copies the image even when there is nothing to turn: only when needed.
        orientation = source.getexif().get(0x0112, 1)
        image = ImageOps.exif_transpose(source) if orientation in range(2, 9) else source
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        if fmt == "JPEG" or not has_alpha:
            image = image.convert("RGB") if image.mode != "RGB" else image
        else:
            image = image.convert("RGBA") if image.mode != "RGBA" else image
    except (OSError, ValueError) as exc:
        raise MasterError(f"The master image is damaged and cannot be read ({exc}).") from exc
    width, height = image.size
    alpha = image.mode == "RGBA"

    logo = kit.logo if kit.logo else None
    logo_size = decoded_logo(logo).size if logo is not None and layout.logo_zones else None
    if watermark_text:
        check_coverage(watermark_text, "watermark")
        watermark_text = " ".join(watermark_text.split())

    plans: list[_TextPlan] = []
    logos: list[tuple[Image.Image, tuple[int, int], bool]] = []
    for index, zone in enumerate(layout.logo_zones, 1):
        box = pixel_box(zone.box, width, height)
        if box.width < 1 or box.height < 1:
            raise LayoutError(f"logo zone {index} is less than a pixel on this image.")
        if logo_size is None:
            fallback = _logo_fallback_zone(zone, layout)
            lines = zone_lines(fallback, kit)
            plans.append(_plan_text(fallback, f"logo zone {index} (company name)", lines, box))
            continue
        size = fit_logo(logo_size, (box.width, box.height))
        x = round(aligned(box.left, box.width, size[0], zone.align))
        y = round(aligned(box.top, box.height, size[1], "center"))
        logos.append((_scaled_logo(logo, size), (x, y), alpha))
    for index, zone in enumerate(layout.text_zones, 1):
        box = pixel_box(zone.box, width, height)
        where = f"text zone {index}"
        if box.width < 1 or box.height < 1:
            raise LayoutError(f"{where} is less than a pixel on this image.")
        plans.append(_plan_text(zone, where, zone_lines(zone, kit), box))

    draw = ImageDraw.Draw(image)
    if layout.band is not None:
        band = pixel_box(layout.band.box, width, height)
        color = kit.color(layout.band.color)
        draw.rectangle(
            (band.left, band.top, band.right - 1, band.bottom - 1),
            fill=(*color, 255) if alpha else color,
        )
    for picture, position, composite in logos:
        if composite:
            image.alpha_composite(picture, dest=position)
        else:
            image.paste(picture, position, picture)
    for plan in plans:
        _draw_text(draw, plan, kit, alpha)
    if watermark_text:
        _watermark(image, watermark_text)

    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, format="JPEG", quality=JPEG_QUALITY, icc_profile=icc)
        return Rendered(out.getvalue(), ".jpg", "image/jpeg")
    image.save(out, format="PNG", icc_profile=icc)
    return Rendered(out.getvalue(), ".png", "image/png")
