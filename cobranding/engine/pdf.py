"""Co-branding PDFs: a vector overlay (reportlab) placed on the chosen pages (pypdf).

Pages are never rasterised: the master's content streams are kept byte for byte; the overlay
adds real text (the bundled font, embedded as a subset), the logo as an image XObject and the
band as a filled rectangle, as a Form XObject drawn after each page's content (as
``qpdf --overlay`` does). Boxes are fractions of the page as displayed: inside the CropBox,
after /Rotate. One overlay form is drawn per distinct (page size, rotation, content) and placed
on every page that needs it, so a 200-page brochure with a watermark builds one or two forms.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)
from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from .errors import MasterError
from .fonts import check_coverage, pdf_font
from .image import aligned, check_pages, decoded_logo, fit_logo
from .kit import BrandKit, Rendered
from .layout import Box, Layout, LogoZone, TextZone, validate_layout
from .text import fit, zone_lines

LOGO_DPI = 300  # the logo is embedded at most at this resolution for its printed size
LOGO_NAME = "PortalCobrandLogo"
LOGO_NAME_PDF = "/" + LOGO_NAME
WATERMARK_ALPHA = 0.25
MAX_PDF_PAGES = 5_000


_binary_lock = threading.Lock()


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    """reportlab wraps every stream in ASCII85 by default (7-bit-clean files): a quarter larger,
    and pypdf's pure-Python ASCII85 decoder then dominates merging the overlay onto each page.
    The setting is global to reportlab, so it is switched off only while an overlay is drawn."""
    with _binary_lock:
        previous = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = previous


@dataclass(frozen=True)
class _Geometry:
    """A page's CropBox (user space) and rotation; the display size follows from them."""

    left: float
    bottom: float
    width: float
    height: float
    rotation: int

    @property
    def display(self) -> tuple[float, float]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


def _ascent_descent(size: float) -> tuple[float, float]:
    font, _ = pdf_font()
    return font.face.ascent * size / 1000, -font.face.descent * size / 1000


def _line_height(size: float) -> float:
    ascent, descent = _ascent_descent(size)
    return ascent + descent


def _text_width(text: str, size: float) -> float:
    font, _ = pdf_font()
    return font.stringWidth(text, size)


def _sizes(zone: TextZone) -> list[float]:
    # Quarter points: fine enough that the chosen size is within 0.25 pt of the best.
    low = math.ceil(zone.min_font_size * 4)
    high = math.floor(zone.font_size * 4)
    return [step / 4 for step in range(min(low, high), high + 1)]


@dataclass(frozen=True)
class _TextPlan:
    zone: TextZone
    rows: tuple[str, ...]
    size: float


def _display_box(box: Box, display: tuple[float, float]) -> tuple[float, float, float, float]:
    """``box`` in display points: (left, bottom, width, height), origin bottom-left."""
    width, height = display
    return box.x * width, (1 - box.y - box.h) * height, box.w * width, box.h * height


def _plan_text(zone: TextZone, where: str, kit: BrandKit, display) -> _TextPlan:
    lines = zone_lines(zone, kit)
    _, _, width, height = _display_box(zone.box, display)
    fitted = fit(
        lines,
        width=width,
        height=height,
        sizes=_sizes(zone),
        line_height=_line_height,
        text_width=_text_width,
        where=where,
        unit="pt",
    )
    return _TextPlan(zone, fitted.rows, fitted.size)


def _fallback(zone: LogoZone, layout: Layout) -> TextZone:
    return TextZone(
        box=zone.box,
        fields=("name",),
        page=zone.page,
        font_size=72.0,
        min_font_size=5.0,
        color="secondary" if layout.band is not None else "primary",
        align=zone.align,
    )


def _rotate_into_user_space(canvas: Canvas, geometry: _Geometry) -> None:
    """Make the canvas draw in display coordinates of a page with ``geometry.rotation``."""
    w, h = geometry.width, geometry.height
    if geometry.rotation == 90:  # display (X, Y) → user (w - Y, X)
        canvas.transform(0, 1, -1, 0, w, 0)
    elif geometry.rotation == 180:
        canvas.transform(-1, 0, 0, -1, w, h)
    elif geometry.rotation == 270:
        canvas.transform(0, -1, 1, 0, 0, h)


def _draw_page(
    canvas: Canvas,
    geometry: _Geometry,
    page: int,
    layout: Layout,
    kit: BrandKit,
    plans: dict[tuple[int, int], _TextPlan],
    watermark_text: str | None,
    logo_sizes: list[tuple[float, float]],
) -> None:
    display = geometry.display
    canvas.setPageSize((geometry.width, geometry.height))
    canvas.saveState()
    _rotate_into_user_space(canvas, geometry)
    if layout.band is not None and page in layout.pages:
        left, bottom, width, height = _display_box(layout.band.box, display)
        canvas.setFillColorRGB(*(c / 255 for c in kit.color(layout.band.color)))
        canvas.rect(left, bottom, width, height, stroke=0, fill=1)
    for zone in layout.logo_zones:
        if zone.page != page or not kit.logo:
            continue
        logo = decoded_logo(kit.logo)
        left, bottom, width, height = _display_box(zone.box, display)
        drawn_w, drawn_h = _fit_logo_points(logo.size, (width, height))
        x = aligned(left, width, drawn_w, zone.align)
        y = aligned(bottom, height, drawn_h, "center")
        # The image XObject itself is added to the result once (``_logo_xobject``) and named
        # in the overlay form's resources: reportlab would re-encode it per overlay.
        canvas.addLiteral(f"q {drawn_w:.4f} 0 0 {drawn_h:.4f} {x:.4f} {y:.4f} cm /{LOGO_NAME} Do Q")
        logo_sizes.append((drawn_w, drawn_h))
    for (zone_page, _), plan in plans.items():
        if zone_page != page:
            continue
        _draw_text(canvas, plan, kit, display)
    if watermark_text:
        _draw_watermark(canvas, watermark_text, display)
    canvas.restoreState()
    canvas.showPage()


def _fit_logo_points(logo_size, box) -> tuple[float, float]:
    lw, lh = logo_size
    scale = min(box[0] / lw, box[1] / lh)
    return lw * scale, lh * scale


@functools.lru_cache(maxsize=8)
def _logo_streams(content: bytes, width_px: int, height_px: int) -> tuple[bytes, bytes | None]:
    """The logo at ``width_px`` × ``height_px``: its RGB samples and, when it is not fully
    opaque, its alpha samples, each Flate-compressed (fast level: a logo is small)."""
    logo = decoded_logo(content)
    if logo.size != (width_px, height_px):
        logo = logo.resize((width_px, height_px), Image.Resampling.LANCZOS, reducing_gap=3.0)
    alpha = logo.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    rgb = zlib.compress(logo.convert("RGB").tobytes(), 1)
    return rgb, None if opaque else zlib.compress(alpha.tobytes(), 1)


def _image_stream(data: bytes, width: int, height: int, colorspace: str) -> StreamObject:
    stream = StreamObject()
    stream._data = data  # already Flate-compressed (pypdf writes _data as it is)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width),
            NameObject("/Height"): NumberObject(height),
            NameObject("/ColorSpace"): NameObject(colorspace),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/FlateDecode"),
        }
    )
    return stream


def _logo_xobject(writer: PdfWriter, content: bytes, sizes: list[tuple[float, float]]):
    """The logo as one image XObject in ``writer`` (with a soft mask for transparency), at
    ``LOGO_DPI`` for the largest size it is drawn at (never above the logo's own pixels)."""
    logo = decoded_logo(content)
    width_pt, height_pt = max(sizes)
    width_px, height_px = fit_logo(
        logo.size,
        (
            max(1.0, math.ceil(width_pt / 72 * LOGO_DPI)),
            max(1.0, math.ceil(height_pt / 72 * LOGO_DPI)),
        ),
    )
    if width_px >= logo.width:
        width_px, height_px = logo.size
    rgb, alpha = _logo_streams(content, width_px, height_px)
    image = _image_stream(rgb, width_px, height_px, "/DeviceRGB")
    if alpha is not None:
        image[NameObject("/SMask")] = writer._add_object(
            _image_stream(alpha, width_px, height_px, "/DeviceGray")
        )
    return writer._add_object(image)


def _overlay_form(writer: PdfWriter, overlay_page, logo_reference) -> object:
    """One overlay page as a Form XObject in ``writer`` (its resources cloned in, the logo
    named in them): drawn on every page that shows it with one ``Do``."""
    contents = overlay_page.get_contents()
    form = StreamObject()
    form.set_data(contents.get_data() if contents is not None else b"")
    form = form.flate_encode()
    resources = overlay_page.get("/Resources")
    resources = (
        resources.get_object().clone(writer) if resources is not None else DictionaryObject()
    )
    if logo_reference is not None:
        xobjects = resources.get("/XObject")
        if xobjects is None:
            xobjects = DictionaryObject()
            resources[NameObject("/XObject")] = xobjects
        xobjects.get_object()[NameObject(LOGO_NAME_PDF)] = logo_reference
    box = overlay_page.mediabox
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                [FloatObject(0), FloatObject(0), FloatObject(box.width), FloatObject(box.height)]
            ),
            NameObject("/Resources"): resources,
        }
    )
    return writer._add_object(form)


def _content_stream(writer: PdfWriter, data: bytes):
    stream = StreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _apply_overlay(writer: PdfWriter, page, form, index: int, geometry: _Geometry) -> None:
    """Draw ``form`` over ``page``: the page's own content streams are kept as they are (not
    parsed, not re-encoded), wrapped in q … Q so a graphics state they leave behind cannot move
    the overlay, followed by a small stream placing the form at the CropBox's corner. This is
    how ``qpdf --overlay`` works; pypdf's ``merge_page`` parses and rewrites every page's
    content instead (slower, and a chance to alter what it does not understand)."""
    resources = page.get("/Resources")
    if resources is None:
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    resources = resources.get_object()
    xobjects = resources.get("/XObject")
    if xobjects is None:
        xobjects = DictionaryObject()
        resources[NameObject("/XObject")] = xobjects
    xobjects = xobjects.get_object()
    name = f"/PortalCobrandOverlay{index}"
    while name in xobjects and xobjects[name] != form:
        name += "x"
    xobjects[NameObject(name)] = form

    existing = page.get("/Contents")
    parts: list = []
    if existing is not None:
        raw = page.raw_get("/Contents")
        target = raw.get_object() if isinstance(raw, IndirectObject) else raw
        if isinstance(target, ArrayObject):
            parts = list(target)
        elif isinstance(raw, IndirectObject):
            parts = [raw]
        else:
            parts = [writer._add_object(raw)]
    before = _shared_stream(writer, b"q\n")
    after = _content_stream(
        writer,
        f"\nQ\nq 1 0 0 1 {geometry.left:.4f} {geometry.bottom:.4f} cm {name} Do Q\n".encode(),
    )
    page[NameObject("/Contents")] = ArrayObject([before, *parts, after])


def _shared_stream(writer: PdfWriter, data: bytes):
    cache = writer.__dict__.setdefault("_portal_streams", {})
    if data not in cache:
        cache[data] = _content_stream(writer, data)
    return cache[data]


def _draw_text(canvas: Canvas, plan: _TextPlan, kit: BrandKit, display) -> None:
    if not plan.rows:
        return
    _, name = pdf_font()
    left, bottom, width, height = _display_box(plan.zone.box, display)
    ascent, descent = _ascent_descent(plan.size)
    line_height = ascent + descent
    top = bottom + height - (height - line_height * len(plan.rows)) / 2
    canvas.setFillColorRGB(*(c / 255 for c in kit.color(plan.zone.color)))
    canvas.setFont(name, plan.size)
    for index, row in enumerate(plan.rows):
        baseline = top - index * line_height - ascent
        row_width = _text_width(row, plan.size)
        canvas.drawString(aligned(left, width, row_width, plan.zone.align), baseline, row)


def _draw_watermark(canvas: Canvas, text: str, display) -> None:
    _, name = pdf_font(bold=True)
    width, height = display
    diagonal = math.hypot(width, height)
    font, _ = pdf_font(bold=True)
    size = max(8.0, min(diagonal * 0.7 / max(font.stringWidth(text, 1), 1e-6), height * 0.25))
    canvas.saveState()
    canvas.setFillColorRGB(0.5, 0.5, 0.5)
    canvas.setFillAlpha(WATERMARK_ALPHA)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    canvas.setFont(name, size)
    canvas.drawCentredString(0, -size * 0.35, text)
    canvas.restoreState()


def open_pdf(master: bytes) -> PdfWriter:
    """The master as a writable document (``MasterError`` when corrupt or encrypted)."""
    if not master or b"%PDF-" not in master[:1024]:
        raise MasterError("The master is not a PDF file.")
    try:
        reader = PdfReader(io.BytesIO(master))
        if reader.is_encrypted:
            raise MasterError(
                "The master PDF is encrypted (password or permissions); upload an unencrypted "
                "PDF to co-brand it."
            )
        count = len(reader.pages)
        if count == 0:
            raise MasterError("The master PDF has no pages.")
        if count > MAX_PDF_PAGES:
            raise MasterError(f"The master PDF has {count} pages; at most {MAX_PDF_PAGES}.")
        return PdfWriter(clone_from=reader)
    except MasterError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MasterError(f"The master PDF is damaged and cannot be read ({exc}).") from exc
    except (RecursionError, IndexError, OSError) as exc:
        raise MasterError(f"The master PDF is damaged and cannot be read ({exc}).") from exc


def _geometry(page) -> _Geometry:
    box = page.cropbox
    rotation = (page.get("/Rotate", 0) or 0) % 360
    if rotation not in (0, 90, 180, 270):
        rotation = 0
    return _Geometry(
        float(box.left), float(box.bottom), float(box.width), float(box.height), int(rotation)
    )


def render_pdf(
    master: bytes, layout: Layout, kit: BrandKit, *, watermark_text: str | None = None
) -> Rendered:
    """``master`` (PDF bytes) with ``kit`` on the pages ``layout`` names (and the watermark, if
    ``watermark_text``, on every page). All checks run before anything is drawn."""
    validate_layout(layout)
    writer = open_pdf(master)
    pages = writer.pages
    check_pages(layout, len(pages), "PDF")
    if watermark_text:
        check_coverage(watermark_text, "watermark")
        watermark_text = " ".join(watermark_text.split())
    if kit.logo and layout.logo_zones:
        decoded_logo(kit.logo)  # a LogoError now, not halfway through

    targets = set(layout.all_pages)
    if watermark_text:
        targets.update(range(1, len(pages) + 1))
    try:
        geometries = {number: _geometry(pages[number - 1]) for number in targets}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MasterError(f"The master PDF is damaged and cannot be read ({exc}).") from exc

    # Plan (fit) every text zone on its page's size first: a TextDoesNotFit before drawing.
    plans_by_page: dict[int, dict[tuple[int, int], _TextPlan]] = {}
    for number in sorted(targets):
        display = geometries[number].display
        if min(display) <= 0:
            raise MasterError(f"Page {number} of the master PDF has no size.")
        plans: dict[tuple[int, int], _TextPlan] = {}
        for index, zone in enumerate(layout.logo_zones, 1):
            if zone.page == number and not kit.logo:
                where = f"logo zone {index} (company name)"
                plans[(number, -index)] = _plan_text(_fallback(zone, layout), where, kit, display)
        for index, zone in enumerate(layout.text_zones, 1):
            if zone.page == number:
                plans[(number, index)] = _plan_text(zone, f"text zone {index}", kit, display)
        plans_by_page[number] = plans

    # One overlay page per distinct (geometry, what is drawn) — pages sharing both share it.
    def content_key(number: int) -> tuple:
        on_page = [zone.page == number for zone in (*layout.logo_zones, *layout.text_zones)]
        band = layout.band is not None and number in layout.pages
        return (
            geometries[number].width,
            geometries[number].height,
            geometries[number].rotation,
            tuple(on_page),
            band,
            tuple((key[1], plan.size) for key, plan in plans_by_page[number].items()),
        )

    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(buffer, pageCompression=1)
        overlay_index: dict[tuple, int] = {}
        page_overlay: dict[int, int] = {}
        logo_sizes: list[tuple[float, float]] = []
        with_logo: set[int] = set()
        for number in sorted(targets):
            key = content_key(number)
            if key not in overlay_index:
                overlay_index[key] = len(overlay_index)
                drawn = len(logo_sizes)
                _draw_page(
                    canvas,
                    geometries[number],
                    number,
                    layout,
                    kit,
                    plans_by_page[number],
                    watermark_text,
                    logo_sizes,
                )
                if len(logo_sizes) > drawn:
                    with_logo.add(overlay_index[key])
            page_overlay[number] = overlay_index[key]
        canvas.save()
    overlay = PdfReader(io.BytesIO(buffer.getvalue()))

    logo_reference = _logo_xobject(writer, kit.logo, logo_sizes) if logo_sizes else None
    forms = {
        index: _overlay_form(
            writer, overlay.pages[index], logo_reference if index in with_logo else None
        )
        for index in set(page_overlay.values())
    }
    try:
        for number, index in page_overlay.items():
            _apply_overlay(writer, pages[number - 1], forms[index], index, geometries[number])
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MasterError(f"The master PDF is damaged and cannot be changed ({exc}).") from exc
    out = io.BytesIO()
    writer.write(out)
    return Rendered(out.getvalue(), ".pdf", "application/pdf")
