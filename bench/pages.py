"""Portal pages in the browser (issue #14): Anna's five key pages against a plain Wagtail page.

Usage (from the project root; ``make bench-pages``)::

    .venv/bin/python bench/pages.py              # 15 runs of each page
    .venv/bin/python bench/pages.py --runs 30 --work-dir /tmp/bench-pages --reuse

It seeds the demo into a fresh SQLite database in ``--work-dir`` (``--reuse`` keeps a database
seeded by a previous run), adds a plain Wagtail page (``wagtailcore.Page`` with Wagtail's own
template, under each language's home, served by bench/load_urls.py's ``/bench/plain/``, as
bench/load.py's ceiling) and builds
the search index. Then ONE real server, gunicorn (1 worker, 4 threads) with DEBUG off
(bench/pages_settings.py; static files through Django's static handler, bench/pages_wsgi.py),
serves every page. Debian's Chromium, driven by Playwright, logs in as Anna through the login
form and loads, in rounds (each round loads every page once, in order, after one warm-up round):

* home (``/de/``), library (``/de/library/``), item (the German X1 datasheet), search
  (``/search/?q=x1+datasheet``), suggest (``/search/suggest/?q=x1``, the search-as-you-type
  endpoint opened as a page), and the plain page.

For each it reads the Navigation Timing API (``performance.getEntriesByType("navigation")``):
time to first byte (``responseStart``) and load (``loadEventEnd``), both from the navigation's
start (then waits for the network to go idle, so that lazy images do not slow the next page),
and prints the median and p95 of each and the ratio of each page's median load to the
plain page's median load in the same run. Goal: every ratio under 2. The exit status is 0 only
when the goal holds. Figures: docs/performance.md, "Portal pages in the browser (issue #14)".
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ANNA = ("anna@acme.example", "demo-anna-2026")
PAGES = {
    "home": "/de/",
    "library": "/de/library/",
    "item": "/de/library/product-sheets/x1-edge-router-datasheet/",
    "search": "/search/?q=x1+datasheet",
    "suggest": "/search/suggest/?q=x1",
    "plain Wagtail page": "/bench/plain/",
}
PLAIN = "plain Wagtail page"
GOAL_RATIO = 2.0
# Read after the load event has finished (loadEventEnd is 0 while its handlers run).
TIMING_JS = """async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
    const [n] = performance.getEntriesByType("navigation");
    return {ttfb: n.responseStart - n.startTime, load: n.loadEventEnd - n.startTime,
            status: n.responseStatus || 0};
}"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured loads of each page")
    parser.add_argument("--work-dir", type=Path, default=None, help="database, media, logs")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded --work-dir database")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(work_dir: Path) -> dict[str, str]:
    """The benchmark's settings (DEBUG off) on its own SQLite database and media folder."""
    env = dict(os.environ)
    for name in ("PORTAL_SEARCH_URL", "S3_BUCKET", "PORTAL_STORAGE_REGIONS", "REDIS_URL"):
        env.pop(name, None)  # database search, local files, local-memory cache
    env.update(
        DJANGO_SETTINGS_MODULE="bench.pages_settings",
        DATABASE_URL=f"sqlite:///{work_dir / 'db.sqlite3'}",
        MEDIA_ROOT=str(work_dir / "media"),
        PYTHONPATH=str(ROOT),
    )
    return env


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603


def setup_site(env: dict[str, str], work_dir: Path, reuse: bool) -> None:
    """Migrate, seed the demo, add the plain page, build the search index (unless reused)."""
    marker = work_dir / "seeded"
    if reuse and marker.exists():
        print("setup: reusing the seeded database")
        plain_page_ensure(env)
        return
    started = time.perf_counter()
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "seeded"):
        (work_dir / name).unlink(missing_ok=True)
    shutil.rmtree(work_dir / "media", ignore_errors=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--quiet")
    plain_page_ensure(env)
    manage(env, "rebuild_search_index")
    marker.write_text("seeded\n")
    print(f"setup: {time.perf_counter() - started:.0f} s")


def plain_page_ensure(env: dict[str, str]) -> None:
    """The ceiling: a plain ``wagtailcore.Page`` under every language's home. Wagtail routes a
    request from the home of the active language (Anna's is German), so bench/load_urls.py's
    ``/bench/plain/`` finds it for her as for English users."""
    manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "from wagtail.models import Page, Site\n"
        "root = Site.objects.get(is_default_site=True).root_page\n"
        "for home in [root, *root.get_translations()]:\n"
        "    if not home.get_children().filter(slug='bench-plain').exists():\n"
        "        home.add_child(instance=Page(title='Bench ceiling', slug='bench-plain',"
        " locale=home.locale))\n",
    )


def start_server(env: dict[str, str], work_dir: Path, port: int) -> subprocess.Popen:
    """gunicorn with the portal's configuration file, one worker of four threads."""
    log = open(work_dir / "gunicorn.log", "w")  # noqa: SIM115 - open for the server's life
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "portal_site/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "bench.pages_wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as answer:  # noqa: S310
                if answer.status == 200:
                    return server
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop(server)
            raise SystemExit(f"gunicorn did not start; see {work_dir / 'gunicorn.log'}")
        time.sleep(0.3)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def measure(base: str, runs: int) -> dict[str, dict[str, list[float]]]:
    """Log in as Anna and load every page ``runs`` times (after a warm-up round)."""
    from playwright.sync_api import sync_playwright

    timings: dict[str, dict[str, list[float]]] = {name: {"ttfb": [], "load": []} for name in PAGES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
        page = context.new_page()
        page.goto(base + "/login/")
        page.fill("#id_username", ANNA[0])
        page.fill("#id_password", ANNA[1])
        with page.expect_navigation():
            page.locator("main form [type=submit]").first.click()
        if "/login/" in page.url:
            raise SystemExit("Anna could not log in")
        for round_ in range(runs + 1):
            for name, path in PAGES.items():
                response = page.goto(base + path, wait_until="load")
                if response is None or response.status != 200:
                    status = response.status if response else None
                    raise SystemExit(f"{name}: {path} answered {status}")
                timing = page.evaluate(TIMING_JS)
                # Lazy images below the fold may still be loading after the load event: let
                # them finish, so that they do not slow the next page's first byte.
                page.wait_for_load_state("networkidle")
                if round_:  # round 0 warms the server's caches and the browser's
                    timings[name]["ttfb"].append(timing["ttfb"])
                    timings[name]["load"].append(timing["load"])
        browser.close()
    return timings


def report(timings: dict[str, dict[str, list[float]]], runs: int) -> bool:
    """Print the table; True when every page's median load is under GOAL_RATIO x the plain's."""
    plain = statistics.median(timings[PLAIN]["load"])
    print(
        f"\nAnna's pages in Chromium, {runs} runs each, one gunicorn (1 worker x 4 threads, "
        f"DEBUG off, SQLite); times in ms from the navigation's start"
    )
    header = (
        f"{'page':<20} {'TTFB p50':>9} {'TTFB p95':>9} {'load p50':>9} {'load p95':>9} "
        f"{'load / plain':>13}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, values in timings.items():
        load = statistics.median(values["load"])
        ratio = load / plain if plain else float("inf")
        passes = name == PLAIN or ratio < GOAL_RATIO
        ok = ok and passes
        print(
            f"{name:<20} {statistics.median(values['ttfb']):>9.1f} "
            f"{percentile(values['ttfb'], 95):>9.1f} {load:>9.1f} "
            f"{percentile(values['load'], 95):>9.1f} {ratio:>12.2f}x"
            + ("" if passes else f"  over the {GOAL_RATIO:g}x goal")
        )
    load_avg = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores" + (f", load average {load_avg[0]:.2f}" if load_avg else "")
    )
    print(
        f"goal (every page's median load < {GOAL_RATIO:g}x the plain page's): "
        + ("met" if ok else "NOT met")
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-pages-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    env = server_environment(work_dir)
    setup_site(env, work_dir, args.reuse)
    port = args.port or free_port()
    server = start_server(env, work_dir, port)
    try:
        timings = measure(f"http://127.0.0.1:{port}", args.runs)
    finally:
        stop(server)
    ok = report(timings, args.runs)
    print(f"work folder: {work_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
