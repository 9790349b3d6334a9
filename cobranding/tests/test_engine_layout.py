"""The layout model (cobranding.engine.layout): JSON round trip, validation messages naming
the zone, the improved default band. Pure: no database."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobranding.engine import (
    TEXT_FIELDS,
    Box,
    Layout,
    LayoutError,
    LogoZone,
    TextZone,
    default_layout,
    layout_from_json,
    layout_to_json,
)
from cobranding.engine.layout import DEFAULT_BAND_HEIGHT, Band


@st.composite
def boxes(draw) -> Box:
    x = draw(st.floats(0, 0.95))
    y = draw(st.floats(0, 0.95))
    w = draw(st.floats(0.01, 1 - x))
    h = draw(st.floats(0.01, 1 - y))
    return Box(x, y, w, h)


colors = st.one_of(
    st.sampled_from(["primary", "secondary"]),
    st.from_regex(r"\A#[0-9a-f]{6}\Z"),
)
aligns = st.sampled_from(["start", "center", "end"])
pages = st.integers(1, 50)


@st.composite
def text_zones(draw) -> TextZone:
    low = draw(st.floats(1, 100))
    return TextZone(
        box=draw(boxes()),
        fields=tuple(draw(st.lists(st.sampled_from(TEXT_FIELDS), min_size=1, max_size=6))),
        page=draw(pages),
        font_size=draw(st.floats(low, 500)),
        min_font_size=low,
        color=draw(colors),
        align=draw(aligns),
    )


logo_zones = st.builds(LogoZone, box=boxes(), page=pages, align=aligns)


@st.composite
def layouts(draw) -> Layout:
    logos = draw(st.lists(logo_zones, max_size=3))
    texts = draw(st.lists(text_zones(), min_size=0 if logos else 1, max_size=3))
    band = draw(st.one_of(st.none(), st.builds(Band, box=boxes(), color=colors)))
    return Layout(
        logo_zones=tuple(logos),
        text_zones=tuple(texts),
        pages=tuple(sorted(set(draw(st.lists(pages, min_size=1, max_size=4))))),
        band=band,
        watermark=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_json_round_trip(layout):
    data = layout_to_json(layout)
    # Through real JSON text, as a template stores it.
    assert layout_from_json(json.loads(json.dumps(data))) == layout


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "pages": json_values,
                "band": json_values,
                "logo_zones": st.lists(json_values, max_size=2),
                "text_zones": st.lists(
                    st.fixed_dictionaries(
                        {"box": json_values},
                        optional={"fields": json_values, "font_size": json_values},
                    ),
                    max_size=2,
                ),
            },
        ),
    )
)
def test_any_json_is_a_layout_or_a_layout_error(data):
    """Junk never escapes as a TypeError/KeyError: a clear LayoutError or a valid layout."""
    try:
        layout = layout_from_json(data)
    except LayoutError as exc:
        assert str(exc)
    else:
        assert layout_from_json(layout_to_json(layout)) == layout


@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(0, 1),
    w=st.floats(0.001, 1),
    index=st.integers(1, 3),
)
def test_a_box_running_off_the_page_names_its_zone(x, w, index):
    zone = {"box": {"x": x, "y": 0.1, "w": w, "h": 0.1}, "fields": ["name"]}
    ok = {"box": {"x": 0, "y": 0, "w": 0.5, "h": 0.1}, "fields": ["name"]}
    data = {"text_zones": [ok] * (index - 1) + [zone]}
    if x + w <= 1 + 1e-6:
        layout_from_json(data)
    else:
        with pytest.raises(LayoutError, match=rf"^text zone {index}: .*right edge"):
            layout_from_json(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"logo_zones": [{"box": {"x": 0, "y": 0.9, "w": 0.2, "h": 0.2}}]},
            "logo zone 1: .*bottom",
        ),
        ({"logo_zones": [{"box": {"x": -0.1, "y": 0, "w": 0.2, "h": 0.2}}]}, "outside the page"),
        ({"logo_zones": [{"box": {"x": 0, "y": 0, "w": 0, "h": 0.2}}]}, "width and a height"),
        ({"logo_zones": [{"box": {"x": 0, "y": 0, "w": 0.2}}]}, "missing h"),
        ({"logo_zones": [{"box": {"x": "0", "y": 0, "w": 0.2, "h": 0.1}}]}, "x must be a number"),
        (
            {"text_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}, "fields": ["fax"]}]},
            "text zone 1: unknown field 'fax'",
        ),
        (
            {"text_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}, "color": "red"}]},
            "colour must be #rrggbb",
        ),
        (
            {"text_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}, "align": "left"}]},
            "align must be start, center or end",
        ),
        (
            {
                "text_zones": [
                    {"box": {"x": 0, "y": 0, "w": 1, "h": 1}, "font_size": 5, "min_font_size": 8}
                ]
            },
            "min_font_size ≤ font_size",
        ),
        ({"pages": [0], "logo_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}}]}, "1 or more"),
        ({"pages": [], "logo_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}}]}, "non-empty"),
        ({"logo_zones": [{"box": {"x": 0, "y": 0, "w": 1, "h": 1}, "page": 0}]}, "logo zone 1"),
        ({}, "at least one logo zone or text zone"),
        ({"text_zone": []}, "unknown key"),
        ({"band": {"box": {"x": 0, "y": 0.5, "w": 1, "h": 0.6}}, "logo_zones": []}, "band: "),
        ("nope", "expected an object"),
    ],
)
def test_bad_layouts_are_refused_clearly(data, message):
    with pytest.raises(LayoutError, match=message):
        layout_from_json(data)


def test_band_as_a_dict_is_accepted():
    layout = Layout(
        logo_zones=(LogoZone(Box(0, 0, 0.5, 0.5)),),
        band={"color": "primary", "box": Box(0, 0.8, 1, 0.2)},
    )
    assert layout.band == Band(Box(0, 0.8, 1, 0.2), "primary")
    assert layout.band["color"] == "primary"


@pytest.mark.parametrize("kind", ["image", "pdf"])
def test_the_default_band_is_bounded_and_valid(kind):
    layout = default_layout(kind)
    assert layout_from_json(layout_to_json(layout)) == layout
    band = layout.band.box
    assert band.h <= DEFAULT_BAND_HEIGHT <= 0.18 and band.y + band.h == pytest.approx(1)
    # Every zone inside the band; the logo at the end side, the text at the start side.
    for zone in (*layout.logo_zones, *layout.text_zones):
        assert zone.box.y >= band.y and zone.box.y + zone.box.h <= 1
    (logo,) = layout.logo_zones
    (text,) = layout.text_zones
    assert logo.align == "end" and text.box.x + text.box.w <= logo.box.x
    assert "contact_email" in text.fields


def test_unknown_default_kind():
    with pytest.raises(LayoutError):
        default_layout("video")


def test_sample_kit_renders_with_the_default_layouts():
    from cobranding.engine import render_image, render_pdf, sample_kit
    from cobranding.tests.engine_samples import image_bytes, pdf_bytes

    kit = sample_kit()
    assert render_image(image_bytes((800, 600)), default_layout("image"), kit).ext == ".png"
    assert render_pdf(pdf_bytes(pages=1), default_layout("pdf"), kit).ext == ".pdf"
