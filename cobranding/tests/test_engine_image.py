"""The image render (cobranding.engine.image) at pixel level: the logo inside its zone for
several aspect ratios and alignments, the band in the brand colour, text that shrinks to fit
or is refused, scripts, formats, and bad input. Pure: no database."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cobranding.engine import (
    Box,
    Layout,
    LayoutError,
    LogoError,
    LogoZone,
    MasterError,
    TextDoesNotFit,
    TextZone,
    UnsupportedScript,
    default_layout,
    render_image,
)
from cobranding.engine.image import pixel_box
from cobranding.engine.layout import Band
from cobranding.tests.engine_samples import (
    GREY,
    MAGENTA,
    image_bytes,
    kit,
    logo_bytes,
    png_header_only,
)

PRIMARY_RGB, SECONDARY_RGB = (0x00, 0x33, 0x66), (0xFF, 0xCC, 0x00)


def _decode(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content)).convert("RGB")


def _near(pixel, color, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


def _bbox_of(image: Image.Image, color, tolerance=40) -> tuple[int, int, int, int] | None:
    """The bounding box (left, top, right, bottom; right/bottom exclusive) of the pixels near
    ``color``."""
    mask = Image.eval(image.convert("RGB"), lambda v: v)  # copy
    r, g, b = mask.split()
    near = [
        channel.point(lambda v, target=target: 255 if abs(v - target) <= tolerance else 0)
        for channel, target in zip((r, g, b), color, strict=True)
    ]
    both = Image.new("L", image.size, 0)
    both.paste(near[0], mask=near[1])
    result = Image.new("L", image.size, 0)
    result.paste(both, mask=near[2])
    return result.getbbox()


# --- the logo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("logo_size", [(300, 100), (100, 300), (200, 200), (37, 11), (2000, 90)])
@pytest.mark.parametrize("align", ["start", "center", "end"])
@pytest.mark.parametrize("zone", [Box(0.1, 0.2, 0.5, 0.3), Box(0.7, 0.05, 0.25, 0.6)])
def test_logo_fits_inside_its_zone_keeping_its_aspect(logo_size, align, zone):
    size = (640, 480)
    layout = Layout(logo_zones=(LogoZone(zone, align=align),))
    rendered = render_image(image_bytes(size), layout, kit(logo=logo_bytes(logo_size)))
    image = _decode(rendered.content)
    assert image.size == size
    left, top, right, bottom = _bbox_of(image, MAGENTA)
    box = pixel_box(zone, *size)
    # Inside the zone (within 1 px).
    assert left >= box.left - 1 and top >= box.top - 1
    assert right <= box.right + 1 and bottom <= box.bottom + 1
    # As large as the zone allows: it touches both sides of one dimension.
    assert (right - left >= box.width - 2) or (bottom - top >= box.height - 2)
    # The aspect ratio is kept (to a pixel of rounding).
    ratio = logo_size[0] / logo_size[1]
    assert abs((right - left) - (bottom - top) * ratio) <= max(2, ratio * 2)
    # Aligned horizontally per ``align``, centred vertically.
    if align == "start":
        assert abs(left - box.left) <= 1
    elif align == "end":
        assert abs(right - box.right) <= 1
    else:
        assert abs((left + right) / 2 - (box.left + box.right) / 2) <= 1
    assert abs((top + bottom) / 2 - (box.top + box.bottom) / 2) <= 1
    # Nothing outside the zone changed.
    assert image.getpixel((0, 0)) == GREY and image.getpixel((size[0] - 1, size[1] - 1)) == GREY


def test_a_transparent_logo_keeps_its_transparency():
    logo = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    logo.paste((255, 0, 255, 255), (25, 25, 75, 75))
    out = io.BytesIO()
    logo.save(out, format="PNG")
    layout = Layout(logo_zones=(LogoZone(Box(0, 0, 1, 1)),))
    image = _decode(render_image(image_bytes((200, 200)), layout, kit(logo=out.getvalue())).content)
    assert image.getpixel((5, 5)) == GREY  # transparent corner: the master shows through
    assert _near(image.getpixel((100, 100)), MAGENTA, 5)


def test_exif_orientation_of_the_master_is_applied():
    # A 300 × 100 JPEG whose EXIF says "rotate 90° clockwise": displayed 100 × 300.
    master = Image.new("RGB", (300, 100), GREY)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    master.save(out, format="JPEG", exif=exif)
    rendered = render_image(out.getvalue(), default_layout("image"), kit())
    assert _decode(rendered.content).size == (100, 300)


# --- the band and the default layout ----------------------------------------------------------


def test_default_band_is_bounded_in_brand_colour_with_logo_and_text():
    size = (1000, 800)
    rendered = render_image(image_bytes(size), default_layout("image"), kit())
    image = _decode(rendered.content)
    assert rendered.ext == ".png" and rendered.media_type == "image/png"
    band_top = round(0.82 * size[1])
    # The master above the band is untouched; the band is at most 18 % of the height.
    assert image.getpixel((500, band_top - 1)) == GREY
    assert _near(image.getpixel((2, size[1] - 2)), PRIMARY_RGB, 2)
    assert _near(image.getpixel((2, band_top + 1)), PRIMARY_RGB, 2)
    # The logo on the end side, the secondary-coloured text on the start side.
    logo = _bbox_of(image, MAGENTA)
    text = _bbox_of(image, SECONDARY_RGB, 60)
    assert logo[0] > size[0] * 0.7 and logo[1] >= band_top
    assert text[0] < size[0] * 0.1 and text[2] < logo[0] and text[1] >= band_top


def test_jpeg_stays_jpeg_png_stays_png_others_become_png():
    layout = default_layout("image")
    jpeg = render_image(image_bytes(fmt="JPEG"), layout, kit())
    assert jpeg.ext == ".jpg" and jpeg.media_type == "image/jpeg"
    assert Image.open(io.BytesIO(jpeg.content)).format == "JPEG"
    png = render_image(image_bytes(fmt="PNG"), layout, kit())
    assert Image.open(io.BytesIO(png.content)).format == "PNG"
    gif = render_image(image_bytes(fmt="GIF", mode="P", color=3), layout, kit())
    assert gif.ext == ".png" and Image.open(io.BytesIO(gif.content)).format == "PNG"
    # The brand colour survives JPEG compression (within its error).
    image = _decode(jpeg.content)
    assert _near(image.getpixel((3, 297)), PRIMARY_RGB, 12)


def test_png_master_with_transparency_stays_transparent_outside_the_band():
    master = image_bytes((300, 200), (0, 0, 0, 0), mode="RGBA")
    rendered = render_image(master, default_layout("image"), kit())
    image = Image.open(io.BytesIO(rendered.content))
    assert image.mode == "RGBA" and image.getpixel((5, 5))[3] == 0
    assert image.getpixel((2, 198)) == (*PRIMARY_RGB, 255)


def test_kit_without_logo_shows_the_company_name_in_the_logo_zone():
    rendered = render_image(image_bytes((1000, 800)), default_layout("image"), kit(logo=None))
    image = _decode(rendered.content)
    assert _bbox_of(image, MAGENTA) is None
    # Secondary-coloured ink (the name) on the end side of the band.
    right_half = image.crop((720, 656, 1000, 800))
    assert _bbox_of(right_half, SECONDARY_RGB, 60) is not None


def test_kit_without_logo_or_name_leaves_the_logo_zone_empty():
    rendered = render_image(
        image_bytes((1000, 800)), default_layout("image"), kit(logo=None, name="")
    )
    right = _decode(rendered.content).crop((720, 660, 1000, 800))
    assert _bbox_of(right, SECONDARY_RGB, 60) is None


# --- text -------------------------------------------------------------------------------------


def _text_layout(box: Box, **zone) -> Layout:
    defaults = {"fields": ("contact_name", "contact_email"), "font_size": 60.0, "color": "#ff0000"}
    return Layout(text_zones=(TextZone(box, **{**defaults, **zone}),))


def test_text_lies_inside_its_zone_and_shrinks_to_fit():
    size = (800, 600)
    wide, narrow = Box(0.05, 0.1, 0.9, 0.4), Box(0.05, 0.6, 0.3, 0.3)
    heights = []
    for box in (wide, narrow):
        image = _decode(render_image(image_bytes(size), _text_layout(box), kit()).content)
        ink = _bbox_of(image, (255, 0, 0), 90)
        pixels = pixel_box(box, *size)
        assert ink[0] >= pixels.left - 1 and ink[2] <= pixels.right + 1
        assert ink[1] >= pixels.top - 1 and ink[3] <= pixels.bottom + 1
        heights.append(ink[3] - ink[1])
    assert heights[1] < heights[0] * 0.6  # the narrow zone's text is much smaller


@pytest.mark.parametrize("align", ["start", "center", "end"])
def test_text_alignment(align):
    size, box = (800, 200), Box(0.1, 0.1, 0.8, 0.8)
    layout = _text_layout(box, fields=("contact_web",), font_size=30.0, align=align)
    image = _decode(render_image(image_bytes(size), layout, kit()).content)
    left, _, right, _ = _bbox_of(image, (255, 0, 0), 90)
    pixels = pixel_box(box, *size)
    if align == "start":
        assert left - pixels.left <= 4
    elif align == "end":
        assert pixels.right - right <= 4
    else:
        assert abs((left + right) / 2 - (pixels.left + pixels.right) / 2) <= 3


def test_text_that_cannot_fit_is_refused_not_cut():
    layout = _text_layout(Box(0.0, 0.0, 0.05, 0.5), min_font_size=10.0)
    with pytest.raises(
        TextDoesNotFit, match="text zone 1: the contact (name|email) .*width"
    ) as exc:
        render_image(image_bytes((400, 300)), layout, kit())
    assert exc.value.zone == "text zone 1" and exc.value.field in ("contact_name", "contact_email")
    tall = _text_layout(Box(0.0, 0.0, 1.0, 0.02), min_font_size=10.0)
    with pytest.raises(TextDoesNotFit, match="height"):
        render_image(image_bytes((400, 300)), tall, kit())


def test_blank_fields_are_skipped():
    layout = _text_layout(Box(0, 0, 1, 1), fields=("contact_phone",))
    image = _decode(render_image(image_bytes(), layout, kit(contact_phone="  ")).content)
    assert _bbox_of(image, (255, 0, 0), 90) is None


@pytest.mark.parametrize(
    "text",
    ["Přístupový Łódź Größe Žluťoučký", "Ελλάδα Αθήνα", "Москва Київ", "Ş ğ İ ő ű ș ț"],
)
def test_latin_greek_cyrillic_render(text):
    layout = _text_layout(Box(0, 0, 1, 1), fields=("contact_name",))
    image = _decode(render_image(image_bytes(), layout, kit(contact_name=text)).content)
    assert _bbox_of(image, (255, 0, 0), 90) is not None


@pytest.mark.parametrize(
    ("text", "chars"), [("王小明", "王"), ("مرحبا", "م"), ("שלום", "ש"), ("नमस्ते", "न")]
)
def test_scripts_the_font_lacks_are_refused(text, chars):
    layout = _text_layout(Box(0, 0, 1, 1), fields=("contact_name",))
    with pytest.raises(UnsupportedScript, match="contact name has characters") as exc:
        render_image(image_bytes(), layout, kit(contact_name=f"Tomáš {text}"))
    assert exc.value.field == "contact_name" and chars in exc.value.characters
    assert "á" not in exc.value.characters


def test_watermark_is_drawn_only_when_asked():
    layout = default_layout("image")
    plain = _decode(render_image(image_bytes((600, 600)), layout, kit()).content)
    marked = _decode(
        render_image(image_bytes((600, 600)), layout, kit(), watermark_text="Confidential").content
    )
    above_band = (0, 0, 600, 480)
    assert plain.crop(above_band).getcolors() == [(600 * 480, GREY)]
    colours = marked.crop(above_band).getcolors(10_000)
    assert len(colours) > 1  # grey text blended into the master
    with pytest.raises(UnsupportedScript, match="watermark"):
        render_image(image_bytes(), layout, kit(), watermark_text="機密")


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("master", "message"),
    [
        (b"", "empty"),
        (b"not an image at all", "not an image"),
        (image_bytes(fmt="JPEG")[:200], "damaged"),
        (image_bytes(fmt="PNG")[:60], "damaged|not an image"),
        (png_header_only(8000, 8000), "^The master image is 8000 × 8000 pixels, more than the 50"),
        (png_header_only(30000, 30000), "more than the 50 megapixels|too many pixels"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    ],
)
def test_bad_masters(master, message):
    with pytest.raises(MasterError, match=message):
        render_image(master, default_layout("image"), kit())


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        (b"hello", "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
        (logo_bytes(fmt="JPEG")[:100], "damaged"),
        (png_header_only(6000, 6000), "^The logo is 6000 × 6000 pixels, more than the 25 megap"),
        (png_header_only(13000, 10), "^The logo is 13000 × 10 pixels; its sides may be at most"),
    ],
)
def test_bad_logos(logo, message):
    with pytest.raises(LogoError, match=message):
        render_image(image_bytes(), default_layout("image"), kit(logo=logo))


def test_zones_outside_or_on_other_pages_of_an_image():
    outside = Layout(logo_zones=(LogoZone(Box(0.5, 0.5, 0.6, 0.2)),))
    with pytest.raises(LayoutError, match="logo zone 1: .*right edge"):
        render_image(image_bytes(), outside, kit())
    page_two = Layout(logo_zones=(LogoZone(Box(0, 0, 0.5, 0.5), page=2),))
    with pytest.raises(LayoutError, match="logo zone 1 is on page 2 but the image has 1 page"):
        render_image(image_bytes(), page_two, kit())
    band = Layout(
        logo_zones=(LogoZone(Box(0, 0, 0.5, 0.5)),), band=Band(Box(0, 0, 1, 0.2)), pages=(1, 2)
    )
    with pytest.raises(LayoutError, match="band is on page 2"):
        render_image(image_bytes(), band, kit())


def test_bad_brand_colour():
    from cobranding.engine import CobrandError

    with pytest.raises(CobrandError, match="primary colour"):
        render_image(image_bytes(), default_layout("image"), kit(primary_color="blue"))


# --- properties ---------------------------------------------------------------------------------


@st.composite
def zones(draw) -> Box:
    x = draw(st.floats(0, 0.8))
    y = draw(st.floats(0, 0.8))
    return Box(x, y, draw(st.floats(0.05, 1 - x)), draw(st.floats(0.05, 1 - y)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=zones(),
    logo_size=st.tuples(st.integers(1, 400), st.integers(1, 400)),
    align=st.sampled_from(["start", "center", "end"]),
    size=st.tuples(st.integers(40, 300), st.integers(40, 300)),
)
def test_logo_always_inside_its_zone(zone, logo_size, align, size):
    layout = Layout(logo_zones=(LogoZone(zone, align=align),))
    image = _decode(
        render_image(image_bytes(size), layout, kit(logo=logo_bytes(logo_size))).content
    )
    bbox = _bbox_of(image, MAGENTA)
    box = pixel_box(zone, *size)
    assert bbox is not None
    left, top, right, bottom = bbox
    assert left >= box.left - 1 and top >= box.top - 1
    assert right <= box.right + 1 and bottom <= box.bottom + 1


alphabet = st.sampled_from(
    list("abcXYZ 0123@.-+áčďéěíňóřšťúůýžąćęłńśźżäöüßőűăâîșțçğış") + list("αβγδΩΣάέήЖДЯжщъёїєґ")
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet, min_size=1, max_size=40).filter(str.strip),
    zone=zones(),
    font_size=st.integers(6, 60),
)
def test_text_fits_inside_its_zone_or_is_refused(text, zone, font_size):
    layout = Layout(
        text_zones=(
            TextZone(
                zone,
                fields=("contact_name", "contact_web"),
                font_size=font_size,
                min_font_size=6,
                color="#ff0000",
            ),
        )
    )
    size = (300, 200)
    try:
        rendered = render_image(image_bytes(size), layout, kit(contact_name=text))
    except TextDoesNotFit as exc:
        assert "text zone 1" in str(exc)
        return
    bbox = _bbox_of(_decode(rendered.content), (255, 0, 0), 90)
    box = pixel_box(zone, *size)
    assert bbox is not None
    assert bbox[0] >= box.left - 1 and bbox[2] <= box.right + 1
    assert bbox[1] >= box.top - 1 and bbox[3] <= box.bottom + 1
