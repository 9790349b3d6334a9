"""The browser harness shared by the browser tests (a pytest plugin, see the root conftest):
Debian's Chromium through Playwright, and a live server sharing the test's database connection.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, or ``PORTAL_CHROMIUM``) against a
live server; Playwright never downloads a browser. Marker ``browser``: ``make test`` skips these
tests when Chromium is absent, the CI's browser leg installs it and sets
``PORTAL_BROWSER_REQUIRED=1`` so that they can never be skipped there.

``PORTAL_SCREENSHOTS=/some/folder`` also saves each page at 390 px and 1280 px, to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser():
    assert HAVE_CHROMIUM, f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    assert HAVE_PLAYWRIGHT, "playwright is not installed (the dev extra)"
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # database work where a loop runs; the database work here (the world, the flush) is
    # synchronous and never on that loop (Playwright's documented setting for Django tests).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
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
