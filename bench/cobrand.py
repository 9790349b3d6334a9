"""Co-branding benchmark (issue #13, deliverable 9): the engine against the raw library calls
doing the same drawing, measured in the same run (interleaved rounds, medians).

    .venv/bin/python bench/cobrand.py                 (or: make bench-cobrand)
    .venv/bin/python bench/cobrand.py --repeat 5 --pages 20 --size 2000 --json /tmp/cobrand.json

Pure engine (``cobranding.engine``): no Django, no database, no server. Inputs are built in
memory at the start: a ``--size`` × ``--size`` JPEG master (a gradient with noise, so it
compresses like a photo), a 600 × 200 PNG logo with transparency, a ``--pages``-page PDF
brochure (text, vector shapes and a 600 × 400 photo per page), and a brand kit with three
contact lines.

* **image** — ``render_image`` (band + logo zone + a text zone of 3 fields, fitted) ÷ raw
  Pillow doing the same drawing: open and decode the master (no conversion: it is RGB), draw the
  band rectangle, decode the
  logo and resize it to the engine's size, paste it, draw the 3 lines in the bundled font at the
  size the engine chose, save as JPEG q=90. The engine's logo caches (decoded, scaled,
  compressed for PDF) are emptied before each of its runs: the first render with a logo, the
  costlier case; loaded fonts stay cached in both (a process keeps them).
* **pdf** — ``render_pdf`` (band on every page, logo + contact block on page 1) ÷ the raw merge
  of the same overlay: the overlay built once, untimed, by the engine's own code; each round
  reads the overlay and the master, clones the master with pypdf, merges the overlay's pages
  onto the same pages and writes the result.
* **cached hit** — what a download of an existing render costs: read the stored render from a
  file + ``stamp`` a fresh token ÷ the first render (for the image and the PDF). Nothing is
  cached between stamps (a PDF stamp reads the render's last xref table, catalog and info
  each time).

Goals (issue #13): image and pdf ratios ≤ 1.3; cached hit ÷ first render ≤ 0.05. Exit status
0 only when all hold. Results and discussion: docs/performance.md, "Co-branding (issue #13)".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from pypdf import PdfReader, PdfWriter  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from cobranding.engine import (  # noqa: E402
    Box,
    BrandKit,
    Layout,
    LogoZone,
    TextZone,
    clear_caches,
    render_image,
    render_pdf,
    stamp,
)
from cobranding.engine import image as engine_image  # noqa: E402
from cobranding.engine import pdf as engine_pdf  # noqa: E402
from cobranding.engine.fonts import image_font  # noqa: E402
from cobranding.engine.layout import Band  # noqa: E402

GOAL_RENDER = 1.3
GOAL_HIT = 0.05
FIELDS = ("contact_name", "contact_phone", "contact_email")


# --- inputs -------------------------------------------------------------------------------------


def master_jpeg(size: int) -> bytes:
    gradient = Image.linear_gradient("L").resize((size, size))
    noise = Image.effect_noise((size, size), 40)
    photo = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_90)))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=90)
    return out.getvalue()


def logo_png() -> bytes:
    logo = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, 599, 199), radius=40, fill=(230, 0, 120, 255))
    draw.ellipse((30, 30, 170, 170), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    logo.save(out, format="PNG")
    return out.getvalue()


def brochure_pdf(pages: int) -> bytes:
    photo = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((600, 400)),
            Image.effect_noise((600, 400), 30),
            Image.linear_gradient("L")
            .resize((600, 400))
            .transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(595, 842))
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica-Bold", 24)
        canvas.drawString(60, 780, f"Product brochure, page {number}")
        canvas.setFont("Helvetica", 10)
        for line in range(40):
            canvas.drawString(60, 740 - line * 14, f"Paragraph line {line} of page {number}. " * 2)
        canvas.drawImage(ImageReader(photo), 60, 60, 300, 200)
        canvas.setStrokeColorRGB(0.1, 0.2, 0.6)
        for step in range(20):
            canvas.circle(450, 160, 10 + step * 4)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def brand_kit(logo: bytes) -> BrandKit:
    return BrandKit(
        name="ACME Systems s.r.o.",
        contact_name="Tomáš Přístupový",
        contact_phone="+420 123 456 789",
        contact_email="tomas.pristupovy@acme.example",
        primary_color="#003366",
        secondary_color="#ffcc00",
        logo=logo,
    )


def image_layout() -> Layout:
    return Layout(
        band=Band(Box(0, 0.85, 1, 0.15), "primary"),
        logo_zones=(LogoZone(Box(0.7, 0.87, 0.27, 0.11), align="end"),),
        text_zones=(
            TextZone(Box(0.03, 0.87, 0.6, 0.11), fields=FIELDS, font_size=160, color="secondary"),
        ),
    )


def pdf_layout(pages: int) -> Layout:
    return Layout(
        band=Band(Box(0, 0.9, 1, 0.1), "primary"),
        pages=tuple(range(1, pages + 1)),
        logo_zones=(LogoZone(Box(0.7, 0.91, 0.27, 0.08), align="end"),),
        text_zones=(
            TextZone(Box(0.03, 0.91, 0.6, 0.08), fields=FIELDS, font_size=14, color="secondary"),
        ),
    )


# --- the raw baselines --------------------------------------------------------------------------


def raw_image_factory(master: bytes, kit: BrandKit, layout: Layout) -> Callable[[], bytes]:
    """Raw Pillow doing what the engine draws, at the positions and size the engine chose."""
    with Image.open(io.BytesIO(master)) as probe:
        width, height = probe.size
    band = engine_image.pixel_box(layout.band.box, width, height)
    logo_box = engine_image.pixel_box(layout.logo_zones[0].box, width, height)
    text_box = engine_image.pixel_box(layout.text_zones[0].box, width, height)
    zone = layout.text_zones[0]
    plan = engine_image._plan_text(zone, "bench", _lines(kit), text_box)
    font = image_font(plan.size)
    ascent, descent = font.getmetrics()
    with Image.open(io.BytesIO(kit.logo)) as probe:
        logo_size = engine_image.fit_logo(probe.size, (logo_box.width, logo_box.height))
    logo_at = (logo_box.right - logo_size[0], logo_box.top + (logo_box.height - logo_size[1]) // 2)
    primary, secondary = kit.color("primary"), kit.color("secondary")
    lines = [kit.contact_name, kit.contact_phone, kit.contact_email]

    def run() -> bytes:
        image = Image.open(io.BytesIO(master))
        image.load()
        if image.mode != "RGB":  # the bench's master is RGB: no copy, as in the engine
            image = image.convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.rectangle((band.left, band.top, band.right - 1, band.bottom - 1), fill=primary)
        logo = Image.open(io.BytesIO(kit.logo)).convert("RGBA")
        logo = logo.resize(logo_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        image.paste(logo, logo_at, logo)
        y = text_box.top
        for line in lines:
            draw.text((text_box.left, y + ascent), line, font=font, fill=secondary, anchor="ls")
            y += ascent + descent
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        return out.getvalue()

    return run


def _lines(kit: BrandKit):
    from cobranding.engine.text import Line

    return [Line(getattr(kit, field), field) for field in FIELDS]


def raw_pdf_factory(master: bytes, kit: BrandKit, layout: Layout) -> Callable[[], bytes]:
    """The same overlay (built once, outside the timing, with plain reportlab calls: the band,
    the contact lines at the size the engine chose, the logo with drawImage) merged onto the same
    pages with plain pypdf calls."""
    reader = PdfReader(io.BytesIO(master))
    geometry = engine_pdf._geometry(reader.pages[0])
    width, height = geometry.display
    plan = engine_pdf._plan_text(layout.text_zones[0], "bench", kit, geometry.display)
    ascent, descent = engine_pdf._ascent_descent(plan.size)
    _, font_name = engine_pdf.pdf_font()
    logo = Image.open(io.BytesIO(kit.logo)).convert("RGBA")
    logo_box = engine_pdf._display_box(layout.logo_zones[0].box, geometry.display)
    logo_w, logo_h = engine_pdf._fit_logo_points(logo.size, logo_box[2:])
    text_box = engine_pdf._display_box(layout.text_zones[0].box, geometry.display)
    band = engine_pdf._display_box(layout.band.box, geometry.display)
    primary = [c / 255 for c in kit.color("primary")]
    secondary = [c / 255 for c in kit.color("secondary")]
    overlay_buffer = io.BytesIO()
    canvas = Canvas(overlay_buffer, pagesize=(width, height), pageCompression=1)
    for page in (1, 2):
        canvas.setFillColorRGB(*primary)
        canvas.rect(*band, stroke=0, fill=1)
        if page == 1:
            canvas.drawImage(
                ImageReader(logo),
                logo_box[0] + logo_box[2] - logo_w,
                logo_box[1] + (logo_box[3] - logo_h) / 2,
                logo_w,
                logo_h,
                mask="auto",
            )
            canvas.setFillColorRGB(*secondary)
            canvas.setFont(font_name, plan.size)
            top = text_box[1] + text_box[3]
            for index, row in enumerate(plan.rows):
                canvas.drawString(text_box[0], top - index * (ascent + descent) - ascent, row)
        canvas.showPage()
    canvas.save()
    overlay_bytes = overlay_buffer.getvalue()
    pages = layout.pages

    def run() -> bytes:
        # The overlay file is this merge's input, like the master: read afresh each time (a
        # reader kept across rounds would hand back objects it parsed in an earlier round).
        overlay = PdfReader(io.BytesIO(overlay_bytes))
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(master)))
        for number in pages:
            writer.pages[number - 1].merge_page(overlay.pages[0 if number == 1 else 1])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    return run


# --- timing -------------------------------------------------------------------------------------


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def clear_engine_caches() -> None:
    """The logo caches: decoded, scaled, compressed for PDF (``cobranding.engine.clear_caches``)."""
    clear_caches()


def measure(repeat: int, size: int, pages: int) -> dict:
    logo = logo_png()
    kit = brand_kit(logo)
    master = master_jpeg(size)
    brochure = brochure_pdf(pages)
    layouts = {"image": image_layout(), "pdf": pdf_layout(pages)}

    def engine_image_run() -> bytes:
        clear_engine_caches()
        return render_image(master, layouts["image"], kit).content

    def engine_pdf_run() -> bytes:
        clear_engine_caches()
        return render_pdf(brochure, layouts["pdf"], kit).content

    raw_image = raw_image_factory(master, kit, layouts["image"])
    raw_pdf = raw_pdf_factory(brochure, kit, layouts["pdf"])

    folder = Path(tempfile.mkdtemp(prefix="bench-cobrand-"))
    stored = {
        "image": (folder / "render.jpg", "image/jpeg"),
        "pdf": (folder / "render.pdf", "application/pdf"),
    }
    stored["image"][0].write_bytes(engine_image_run())
    stored["pdf"][0].write_bytes(engine_pdf_run())

    def hit(kind: str) -> Callable[[], bytes]:
        path, media_type = stored[kind]

        def run() -> bytes:
            return stamp(path.read_bytes(), media_type, secrets.token_urlsafe(16))

        return run

    cases: dict[str, Callable[[], object]] = {
        "image engine": engine_image_run,
        "image raw": raw_image,
        "image hit": hit("image"),
        "pdf engine": engine_pdf_run,
        "pdf raw": raw_pdf,
        "pdf hit": hit("pdf"),
    }
    for function in cases.values():  # warm-up: imports, fonts, code paths
        function()
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(cases[name]))
    for path, _ in stored.values():
        path.unlink()
    folder.rmdir()
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "inputs": {
            "image": f"{size}×{size} JPEG, {len(master) / 1e6:.1f} MB",
            "pdf": f"{pages} pages, {len(brochure) / 1e6:.1f} MB",
            "logo": f"600×200 PNG, {len(logo) / 1e3:.0f} kB",
        },
        "repeat": repeat,
        "medians_ms": {name: round(value * 1000, 1) for name, value in medians.items()},
        "ratios": {
            "image engine / raw Pillow": medians["image engine"] / medians["image raw"],
            "pdf engine / raw overlay merge": medians["pdf engine"] / medians["pdf raw"],
            "image cached hit / first render": medians["image hit"] / medians["image engine"],
            "pdf cached hit / first render": medians["pdf hit"] / medians["pdf engine"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.repeat, args.size, args.pages)
    result["machine"] = (
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(f"Co-branding benchmark ({result['machine']}), medians of {args.repeat} rounds")
    for name, value in result["inputs"].items():
        print(f"  {name:6} {value}")
    for name, value in result["medians_ms"].items():
        print(f"  {name:16} {value:8.1f} ms")
    goals = {
        "image engine / raw Pillow": GOAL_RENDER,
        "pdf engine / raw overlay merge": GOAL_RENDER,
        "image cached hit / first render": GOAL_HIT,
        "pdf cached hit / first render": GOAL_HIT,
    }
    ok = True
    for name, ratio in result["ratios"].items():
        passed = ratio <= goals[name]
        ok &= passed
        print(f"  {name:34} {ratio:6.3f}  (goal ≤ {goals[name]})  {'ok' if passed else 'MISSED'}")
    result["passed"] = ok
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
