"""Tests for :mod:`demo.assets` (plain pytest: no Django, no database).

Run with ``python -m pytest demo/tests/test_assets.py -p no:django -q``.
"""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader

from demo.assets import (
    CONTACT_ZONE,
    LOGO_ZONE,
    make_logo,
    make_pdf,
    make_product_image,
)

A4_W, A4_H = 595.28, 841.89


def _open(data: bytes) -> Image.Image:
    """Open image bytes after a full structural verification."""
    Image.open(io.BytesIO(data)).verify()
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data), strict=True)


def _flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- images


def test_product_image_default_is_jpeg_of_requested_size() -> None:
    data = make_product_image("AX-2400 Multi-Gigabit Switch", subtitle="48 ports, PoE++")
    img = _open(data)
    assert img.format == "JPEG"
    assert img.size == (1200, 800)
    assert img.mode == "RGB"


@pytest.mark.parametrize(
    ("title", "size"),
    [
        ("FX-600 Next-Generation Firewall", (640, 480)),
        ("WX-7 Wi-Fi 7 Access Point", (1024, 1024)),
        ("Routing Essentials Training", (800, 1000)),
    ],
)
def test_product_image_png_variants(title: str, size: tuple[int, int]) -> None:
    img = _open(make_product_image(title, color="#c62828", size=size, fmt="PNG"))
    assert img.format == "PNG"
    assert img.size == size
    assert img.mode == "RGB"


def test_product_image_is_a_picture_not_noise_or_flat() -> None:
    img = _open(make_product_image("RX-900 Branch Router", fmt="PNG"))
    stat = ImageStat.Stat(img.convert("L"))
    assert 15 < stat.stddev[0] < 100  # structured content, neither flat nor random noise
    # The title is drawn in white in the upper-left text block.
    block = img.crop((60, 150, 600, 260)).convert("L")
    assert block.getextrema()[1] >= 250
    # The colour theme follows ``color``: a blue base gives a blue-dominated picture.
    r, g, b = ImageStat.Stat(img).mean
    assert b > r and b > g


def test_product_image_is_deterministic() -> None:
    args = {"subtitle": "Campus access", "color": "#0a7"}
    first = make_product_image("AX-2400 Switch", **args)
    assert first == make_product_image("AX-2400 Switch", **args)
    assert first != make_product_image("AX-2500 Switch", **args)
    png = make_product_image("AX-2400 Switch", fmt="png")
    assert png == make_product_image("AX-2400 Switch", fmt="png")


def test_product_image_handles_non_ascii_titles() -> None:
    img = _open(make_product_image("Školení: Přehled sítí", subtitle="Straße – Übersicht"))
    assert img.size == (1200, 800)


def test_product_image_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unsupported image format"):
        make_product_image("X", fmt="GIF")


# --------------------------------------------------------------------------- logos


def test_logo_is_transparent_png() -> None:
    data = make_logo("Brightline Systems s.r.o.", color="#0a7")
    img = _open(data)
    assert img.format == "PNG"
    assert img.mode == "RGBA"
    assert img.size == (400, 160)
    alpha = img.getchannel("A")
    low, high = alpha.getextrema()
    assert low == 0  # transparent background
    assert high == 255  # solid emblem / lettering
    hist = alpha.histogram()
    transparent_share = hist[0] / (img.width * img.height)
    assert 0.3 < transparent_share < 0.95


def test_logo_custom_size_and_determinism() -> None:
    first = make_logo("Acme", color="navy", size=(200, 200))
    assert first == make_logo("Acme", color="navy", size=(200, 200))
    assert first != make_logo("Acme", color="teal", size=(200, 200))
    img = _open(first)
    assert img.size == (200, 200)
    assert img.mode == "RGBA"


# --------------------------------------------------------------------------- PDFs


@pytest.mark.parametrize("pages", [1, 2, 3, 5])
def test_pdf_page_count_and_title(pages: int) -> None:
    title = "AX-2400 Multi-Gigabit Switch"
    reader = _reader(make_pdf(title, subtitle="Campus access switching", pages=pages))
    assert len(reader.pages) >= pages
    assert len(reader.pages) == pages  # generated filler fills exactly the requested pages
    first = _flat(reader.pages[0].extract_text())
    assert title in first
    assert "Technical specifications" in first
    assert f"Page 1 of {pages}" in first
    assert reader.metadata is not None
    assert reader.metadata.title == title


def test_pdf_is_deterministic() -> None:
    kwargs = {"subtitle": "Datasheet", "pages": 3, "accent": "#e36209", "language": "de"}
    first = make_pdf("RX-900 Branch Router", **kwargs)
    assert first == make_pdf("RX-900 Branch Router", **kwargs)
    assert first != make_pdf("RX-901 Branch Router", **kwargs)


def test_pdf_uses_given_sections() -> None:
    sections = [
        ("Lab prerequisites", "Bring a laptop with a modern browser.\n\nVPN access is provided."),
        ("Agenda", ""),  # empty body: generated text
    ]
    reader = _reader(make_pdf("Routing Essentials Training", sections=sections, pages=2))
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    assert "Lab prerequisites" in text
    assert "Bring a laptop with a modern browser." in text
    assert "VPN access is provided." in text
    assert "Agenda" in text
    assert "Course at a glance" in text  # training titles get a course table
    assert len(reader.pages) >= 2


def test_pdf_long_sections_still_give_at_least_requested_pages() -> None:
    body = " ".join(f"Sentence number {i} about router configuration." for i in range(400))
    reader = _reader(make_pdf("Long guide", sections=[("Everything", body)], pages=2))
    assert len(reader.pages) >= 3
    assert "Sentence number 399" in _flat(" ".join(p.extract_text() for p in reader.pages))


def test_pdf_german_and_czech() -> None:
    de = _reader(make_pdf("Firewall FX-600", language="de", pages=2))
    de_text = _flat(de.pages[0].extract_text())
    assert "Firewall FX-600" in de_text
    assert "Technische Daten" in de_text
    assert "Seite 1 von 2" in de_text

    cs = _reader(make_pdf("Přehled řešení", language="cs", pages=2))
    cs_text = _flat(cs.pages[0].extract_text())
    # Helvetica cannot show "ř", so it is transliterated; letters it can show stay.
    assert "Prehled rešení" in cs_text
    assert "Technické parametry" in cs_text
    assert "Strana 1 z 2" in cs_text


def test_pdf_unknown_language_falls_back_to_english() -> None:
    text = _flat(_reader(make_pdf("AX Switch", language="fr", pages=1)).pages[0].extract_text())
    assert "Technical specifications" in text


def test_pdf_texts_data_covers_every_language_and_category() -> None:
    """demo/data/pdf_texts.json: every language has every label and bank, every category rows."""
    from demo import assets

    languages = set(assets._LANGS)
    assert set(assets._STRINGS) == languages
    assert len({frozenset(strings) for strings in assets._STRINGS.values()}) == 1
    assert set(assets._EN_SENTENCES) == {t for topics in assets._RELATED.values() for t in topics}
    assert assets._DE_SENTENCES and assets._CS_SENTENCES
    for bank in (assets._HEADINGS, assets._TRAINING_HEADINGS, assets._BULLETS, assets._TIPS):
        assert set(bank) == languages and all(bank.values())
    assert set(assets._SPECS) == set(assets._RELATED)
    for rows in assets._SPECS.values():
        for label, value in rows:
            assert set(label) == languages
            assert value and (set(value) == languages if isinstance(value, dict) else True)


def _text_positions(data: bytes, page: int = 0) -> list[tuple[float, float, float, str]]:
    """(x, y, font size, text) of every text run on a page, in PDF user space."""
    runs: list[tuple[float, float, float, str]] = []

    def visitor(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text.strip():
            return
        # position = tm x cm (row-vector convention)
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or 1.0
        runs.append((x, y, size * scale, text))

    _reader(data).pages[page].extract_text(visitor_text=visitor)
    return runs


def _overlaps(zone: tuple[float, float, float, float], x: float, y: float, size: float) -> bool:
    zx, zy, zw, zh = zone
    # a text run occupies roughly [y - descent, y + ascent] vertically, starting at x
    return x < zx + zw and y + size >= zy and y - 0.25 * size <= zy + zh and x + 1 >= zx


def test_cobranding_zones_constants() -> None:
    lx, ly, lw, lh = LOGO_ZONE
    assert (lw, lh) == (180.0, 70.0)
    assert lx + lw <= A4_W and ly + lh <= A4_H  # inside the page
    assert lx > A4_W / 2 and ly > A4_H * 0.8  # top-right corner
    cx, cy, cw, ch = CONTACT_ZONE
    assert (cx, cy) == (0.0, 0.0)
    assert cw == pytest.approx(A4_W, abs=0.01)
    assert ch == 60.0


@pytest.mark.parametrize("language", ["en", "de", "cs"])
def test_cobranding_zones_are_free_of_text(language: str) -> None:
    data = make_pdf(
        "A very long product title that needs to wrap over several lines in the header band",
        subtitle="And a subtitle that is fairly long as well, to stress the cover layout",
        pages=2,
        language=language,
    )
    runs = _text_positions(data)
    assert runs, "expected text on page 1"
    assert any(y < 100 for _, y, _, _ in runs)  # the footer is found (sanity of the visitor)
    for x, y, size, text in runs:
        assert not _overlaps(LOGO_ZONE, x, y, size), f"text in logo zone: {text!r}"
        assert not _overlaps(CONTACT_ZONE, x, y, size), f"text in contact zone: {text!r}"
        assert y > CONTACT_ZONE[3]


def test_calls_are_fast() -> None:
    make_product_image("warm-up")  # font loading happens once per process
    make_pdf("warm-up")
    make_logo("warm-up")
    for func, arg in ((make_product_image, "Speed"), (make_pdf, "Speed"), (make_logo, "Speed")):
        start = time.perf_counter()
        func(arg)
        # target is well under 200 ms; the bound is generous to keep slow CI runners green
        assert time.perf_counter() - start < 1.0
