"""The browser harness shared by the browser tests (a pytest plugin, see the root conftest):
Debian's Chromium through Playwright, and a live server sharing the test's database connection.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, or ``PORTAL_CHROMIUM``) against a
live server; Playwright never downloads a browser. Marker ``browser``: ``make test`` skips these
tests when Chromium is absent, the CI's browser leg installs it and sets
``PORTAL_BROWSER_REQUIRED=1`` so that they can never be skipped there.

``PORTAL_SCREENSHOTS=/some/folder`` also saves each page at 390 px and 1280 px, to look at.

The end-to-end journeys (tests/test_journeys.py, issue #14) walk through the portal with a
``Journey``: each step is screenshotted (into ``PORTAL_SCREENSHOTS``, else a temporary folder
that the run's summary names), checked with axe-core (``axe_check``: no serious or critical
violation), checked for sideways scrolling on a phone, and no console error or uncaught page
error may happen on the way (``ConsoleErrors``). axe-core comes from the npm registry through
``make install`` (package.json, ``npm ci``) into node_modules/, never from a CDN; the vendored
file is evaluated in the page under test (``axe_check``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
REQUIRED = os.environ.get("PORTAL_BROWSER_REQUIRED") == "1"
try:
    import playwright.sync_api  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the dev extra installs it
    HAVE_PLAYWRIGHT = False

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not REQUIRED and not (HAVE_CHROMIUM and HAVE_PLAYWRIGHT),
        reason="Chromium (/usr/bin/chromium) or playwright not installed",
    ),
]

# axe-core as `make install` vendors it (npm ci, package-lock.json pins the version).
AXE_JS = Path(
    os.environ.get("PORTAL_AXE")
    or Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
)
# The impacts that fail a journey; "moderate" and "minor" are reported by axe but do not block.
BLOCKING_IMPACTS = ("serious", "critical")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser():
    assert HAVE_CHROMIUM, f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    assert HAVE_PLAYWRIGHT, "playwright is not installed (the dev extra)"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # database work where a loop runs; the database work here (the world, the flush) is
    # synchronous and never on that loop (Playwright's documented setting for Django tests).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Django keeps one connection per context, and the running loop makes a new context: the
    # test would get a second SQLite connection, locked out by the first one's open transaction
    # (the session demo's, seeded before the browser started). Keep the one connection.
    outer = {alias: connections[alias] for alias in connections}
    try:
        with sync_playwright() as playwright:
            for alias, connection in outer.items():
                connections[alias] = connection
            # executable_path: Debian's Chromium; Playwright never downloads a browser here.
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def served(db, monkeypatch):
    """A live server that shares this test's database connection (and so its transaction):
    the world built in the test is seen by the server without committing it, and rolled back
    after the test like any other test's (a transactional test would flush the tables, and with
    them the rows migrations made, under --reuse-db).

    The server handles one request at a time, on that one connection, and must not close it.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import WSGIServer
    from django.core.signals import request_finished
    from django.db import close_old_connections, connections
    from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

    class SerialLiveServerThread(LiveServerThread):
        def _create_server(self, connections_override=None):
            return WSGIServer(
                (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
            )

    connection = connections["default"]  # the wrapper itself (django.db.connection is a proxy)
    monkeypatch.setattr(connection, "close", lambda: None)
    request_finished.disconnect(close_old_connections)
    connection.inc_thread_sharing()
    thread = SerialLiveServerThread(
        # Static files from the finders, as runserver serves them (StaticLiveServerTestCase's).
        "localhost",
        StaticFilesHandler,
        connections_override={"default": connection},
    )
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield f"http://localhost:{thread.port}"
    finally:
        thread.terminate()
        connection.dec_thread_sharing()
        request_finished.connect(close_old_connections)


def shoot(page, name: str) -> None:
    """Save a full-page screenshot when ``PORTAL_SCREENSHOTS`` names a folder (to look at)."""
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


# --- the journeys' checks (issue #14) ------------------------------------------------------------

_screenshot_folder: Path | None = None
_screenshots_taken = 0


def screenshots_folder() -> Path:
    """Where the journeys' screenshots go: ``PORTAL_SCREENSHOTS``, else one temporary folder for
    the run (named in the run's summary, so that a CI log says where to look)."""
    global _screenshot_folder
    if _screenshot_folder is None:
        named = os.environ.get("PORTAL_SCREENSHOTS")
        _screenshot_folder = (
            Path(named) if named else Path(tempfile.mkdtemp(prefix="portal-screenshots-"))
        )
        _screenshot_folder.mkdir(parents=True, exist_ok=True)
    return _screenshot_folder


def pytest_terminal_summary(terminalreporter) -> None:
    """Name the screenshots folder at the end of the run (the CI log shows it)."""
    if _screenshots_taken:
        terminalreporter.write_line(
            f"browser journeys: {_screenshots_taken} screenshots in {screenshots_folder()}"
        )


def axe_check(page, *, allow: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now and fail on any serious or critical violation
    (rule id, help and the offending nodes' targets in the message). ``allow`` maps a rule id,
    or ``"rule-id @ text in the node's target"``, to the reason it is tolerated (only for pages
    that are not ours: Wagtail's admin).
    Returns every violation axe found (moderate and minor included), for a test to look at."""
    if not AXE_JS.exists():
        if REQUIRED:
            pytest.fail(f"axe-core is missing at {AXE_JS}: run `make install` (npm ci)")
        pytest.skip(f"axe-core is not installed at {AXE_JS} (`make install` with npm)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does
        # not govern: add_script_tag would inject an inline <script> that the portal's CSP
        # (script-src 'self') refuses, and bypassing the CSP would hide the pages' own
        # violations.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
            v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   targets: v.nodes.map(n => n.target.join(" "))}))"""
    )
    blocking = []
    for violation in violations:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = [t for t in violation["targets"] if not _axe_allowed(violation["id"], t, allow)]
        if targets:
            blocking.append({**violation, "targets": targets})
    if blocking:
        lines = [
            f"- {v['impact']} {v['id']}: {v['help']} ({v['helpUrl']})\n    "
            + "\n    ".join(v["targets"][:10])
            for v in blocking
        ]
        pytest.fail(
            f"axe: {len(blocking)} serious/critical violation(s) on {page.url}:\n"
            + "\n".join(lines),
            pytrace=False,
        )
    return violations


def _axe_allowed(rule: str, target: str, allow: Mapping[str, str] | None) -> bool:
    for key in allow or {}:
        allowed_rule, _, where = (part.strip() for part in key.partition("@"))
        if allowed_rule == rule and where in target:
            return True
    return False


def sideways_scroll(page) -> dict[str, int]:
    """The page's widths: a page that fits has scroll widths no larger than the viewport."""
    return page.evaluate(
        """() => ({
            viewport: document.documentElement.clientWidth,
            document: document.documentElement.scrollWidth,
            body: document.body ? document.body.scrollWidth : 0,
        })"""
    )


class ConsoleErrors:
    """Every console error and uncaught page error of a page, except the ones expected.

    ``allowed`` maps a regular expression (searched in "text @ url") to the reason it is
    tolerated everywhere in the journey; ``expect()`` tolerates one for a block of steps (a page
    the journey opens knowing it answers 404)."""

    def __init__(self, page, allowed: Mapping[str, str] | None = None) -> None:
        self.allowed = dict(allowed or {})
        self.expected: dict[str, str] = {}
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)

    def _keep(self, text: str) -> None:
        patterns = {**self.allowed, **self.expected}
        if not any(re.search(pattern, text) for pattern in patterns):
            self.errors.append(text)

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self._keep(f"{message.text} @ {where}")

    def _on_pageerror(self, error) -> None:
        self._keep(f"uncaught {error}")

    @contextmanager
    def expect(self, pattern: str, reason: str) -> Iterator[None]:
        """Tolerate errors matching ``pattern`` inside the block (``reason`` says why)."""
        assert reason, "say why the error is expected"
        self.expected[pattern] = reason
        try:
            yield
        finally:
            self.expected.pop(pattern, None)

    def check(self, where: str) -> None:
        """Fail if an unexpected error was seen (and forget it, so it is reported once)."""
        errors, self.errors = self.errors, []
        if errors:
            pytest.fail(f"console errors by {where}:\n- " + "\n- ".join(errors), pytrace=False)


class Journey:
    """One persona's walk through the portal at one viewport, in its own browser context.

    ``step(label)`` after each thing the persona does: the page is screenshotted into
    ``<screenshots>/<test>/<name>-<width>/NN-label.png``, checked with axe (no serious or
    critical violation), checked for sideways scrolling on a phone-sized viewport, for console
    errors and for requests to any host but the server's. The pages run under their
    Content-Security-Policy as in production (a violation is a console error); axe is
    evaluated through the DevTools protocol, which the CSP does not govern."""

    def __init__(
        self,
        browser,
        base_url: str,
        name: str,
        viewport: Mapping[str, int],
        *,
        locale: str = "en-US",
        console_allowed: Mapping[str, str] | None = None,
        folder: str = "",
    ) -> None:
        self.base_url = base_url
        self.name = name
        self.folder = folder  # the test's: two tests' journeys of one persona stay apart
        self.viewport = dict(viewport)
        self.context = browser.new_context(
            viewport=self.viewport, locale=locale, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.console = ConsoleErrors(self.page, console_allowed)
        self.steps = 0
        # No page may ask an outside host for anything (no CDN, no Gravatar): issue #14.
        self.outside: list[str] = []
        self.page.on("request", self._on_request)

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        own = urlsplit(self.base_url).hostname
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in (
            own,
            "localhost",
            "127.0.0.1",
        ):
            self.outside.append(request.url)

    @property
    def label(self) -> str:
        return f"{self.name}-{self.viewport['width']}"

    def goto(self, path: str, *, status: int | None = 200):
        """Open ``path`` (relative to the server) and check the answer's status."""
        response = self.page.goto(self.base_url + path)
        if status is not None:
            assert response is not None, path
            assert response.status == status, (self.label, path, response.status)
        return response

    def path(self) -> str:
        """The current page's path and query."""
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def step(self, label: str, *, axe: bool = True, axe_allow: Mapping[str, str] | None = None):
        """Screenshot, accessibility, phone fit and console checks of the page as it is now."""
        global _screenshots_taken
        self.page.wait_for_load_state()
        # Let finite animations and transitions end (a message fading in would be read by axe
        # at half its contrast); never wait more than 2 s.
        self.page.evaluate(
            """() => Promise.race([
                new Promise(resolve => setTimeout(resolve, 2000)),
                Promise.all(document.getAnimations()
                    .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
                    .map(a => a.finished.catch(() => null))),
            ])"""
        )
        self.steps += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        folder = screenshots_folder() / self.folder / self.label
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{self.steps:02d}-{slug}.png"), full_page=True)
        _screenshots_taken += 1
        where = f"{self.label} step {self.steps} ({label}, {self.path()})"
        self.console.check(where)
        outside, self.outside = self.outside, []
        assert not outside, (where, "requests to outside hosts", outside)
        if self.viewport["width"] <= PHONE["width"]:
            widths = sideways_scroll(self.page)
            assert widths["document"] <= widths["viewport"], (where, "scrolls sideways", widths)
            assert widths["body"] <= widths["viewport"], (where, "scrolls sideways", widths)
        if axe:
            axe_check(self.page, allow=axe_allow)

    def login(self, email: str, password: str) -> None:
        """Sign in through the portal's login form, as the persona would."""
        self.goto("/login/")
        self.page.fill("#id_username", email)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.locator("main form [type=submit]").first.click()

    def close(self) -> None:
        """Check the last errors (those after the last step) and close the context."""
        try:
            self.console.check(f"{self.label} after the last step")
        finally:
            self.context.close()


@pytest.fixture
def journeys(request, browser, served):
    """Open ``Journey`` objects on the live server (``journeys(name, viewport, ...)``); each is
    closed, and checked for late console errors, at the end of the test."""
    opened: list[Journey] = []

    def open_journey(name: str, viewport: Mapping[str, int], **options: Any) -> Journey:
        folder = request.node.originalname.removeprefix("test_")
        journey = Journey(browser, served, name, viewport, folder=folder, **options)
        opened.append(journey)
        return journey

    yield open_journey
    for journey in opened:
        journey.close()
