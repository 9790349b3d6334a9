"""The portal in a real browser: Arabic pages are right-to-left and fit a 390 px phone.

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
from django.test import Client

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
REQUIRED = os.environ.get("PORTAL_BROWSER_REQUIRED") == "1"
try:
    import playwright.sync_api  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the dev extra installs it
    HAVE_PLAYWRIGHT = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not REQUIRED and not (HAVE_CHROMIUM and HAVE_PLAYWRIGHT),
        reason="Chromium (/usr/bin/chromium) or playwright not installed",
    ),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_TITLE = "بطاقة المنافسة الشاملة لموجه الشبكات F9 مع مقارنة تفصيلية للأداء والتسعير والدعم"


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


@pytest.fixture
def world(served):
    """A partner of an active organisation, in Arabic, with items in the English library (long
    titles and summaries, a product, tags, a file)."""
    from accounts.tests.factories import UserFactory
    from files.tests.factories import make_pdf_bytes
    from kb.services import FileSpec, product_ensure, site_structure_ensure
    from kb.tests.factories import make_item
    from permissions.tests.factories import MembershipFactory

    homes = site_structure_ensure(hostname="localhost", port=80)
    user = UserFactory(
        email="layla.alharbi@gulf-distribution.example",
        first_name="ليلى",
        preferred_language="ar",
        time_zone="Asia/Riyadh",
    )
    MembershipFactory(user=user)
    product = product_ensure(name="F9 Router Enterprise Edition")
    pdf = make_pdf_bytes("datasheet")
    items = [
        make_item(
            key=f"item-{n}",
            kind=kind,
            title=f"{LONG_TITLE} {n}" if n % 2 else f"Supercalifragilistic-datasheet-{n}" * 2,
            summary="ملخص طويل يشرح محتوى هذا العنصر للشركاء في المنطقة " * 3,
            product=product,
            tags=["q4-launch", "battlecard"],
            files=[FileSpec(name=f"datasheet-{n}.pdf", content=pdf)] if n == 0 else (),
        )
        for n, kind in enumerate(["product_sheet", "training_guide", "marketing_asset"] * 2)
    ]
    from search.backends import get_search_backend
    from search.documents import iter_documents

    get_search_backend().rebuild(iter_documents())  # search results and facets to look at
    client = Client()
    client.force_login(user)
    return {
        "user": user,
        "home": homes["en"],
        "items": items,
        "session": client.cookies["sessionid"].value,
        "url": served,
    }


def _page(browser, world, viewport, *, signed_in=True, locale="en-US"):
    context = browser.new_context(viewport=viewport, locale=locale)
    if signed_in:
        context.add_cookies([{"name": "sessionid", "value": world["session"], "url": world["url"]}])
    return context, context.new_page()


def _fits(page) -> dict:
    return page.evaluate(
        """() => ({
            styled: getComputedStyle(document.querySelector(".site-header")).backgroundColor,
            dir: document.documentElement.getAttribute("dir"),
            lang: document.documentElement.getAttribute("lang"),
            scrollWidth: document.documentElement.scrollWidth,
            bodyScrollWidth: document.body.scrollWidth,
            clientWidth: document.documentElement.clientWidth,
        })"""
    )


def _shoot(page, name: str) -> None:
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _library_url(world) -> str:
    from kb.models import LibraryIndexPage

    library = LibraryIndexPage.objects.filter(locale=world["home"].locale).first()
    assert library is not None
    return library.get_url()


@pytest.mark.parametrize("where", ["home", "library", "item", "search", "profile"], ids=lambda w: w)
def test_arabic_pages_are_rtl_and_fit_a_phone(browser, world, where):
    paths = {
        "home": "/",
        "library": _library_url(world),
        "item": world["items"][0].get_url(),  # a long unbroken title, a file
        "search": "/search/?q=F9",
        "profile": "/portal/account/profile/",
    }
    for label, viewport in (("390", PHONE), ("1280", DESKTOP)):
        context, page = _page(browser, world, viewport)
        try:
            response = page.goto(world["url"] + paths[where])
            assert response is not None and response.status == 200, (where, response)
            facts = _fits(page)
            _shoot(page, f"ar-{where}-{label}")
            assert facts["styled"] == "rgb(13, 17, 23)", facts  # portal.css applies
            assert facts["dir"] == "rtl", facts
            assert facts["lang"] == "ar", facts
            assert facts["scrollWidth"] <= viewport["width"], (where, label, facts)
            assert facts["bodyScrollWidth"] <= viewport["width"], (where, label, facts)
        finally:
            context.close()


def test_login_page_follows_the_browsers_language(browser, world):
    context, page = _page(browser, world, PHONE, signed_in=False, locale="ar-SA")
    try:
        page.goto(world["url"] + "/login/")
        facts = _fits(page)
        _shoot(page, "ar-login-390")
        assert facts["dir"] == "rtl" and facts["lang"] == "ar", facts
        assert facts["scrollWidth"] <= PHONE["width"], facts
        # The switcher lists every UI language by its own name, each marked with its language.
        options = page.eval_on_selector_all(
            "#ui-language option", "els => els.map(e => [e.value, e.lang, e.textContent])"
        )
        assert [value for value, _lang, _name in options] == [
            "en",
            "de",
            "fr",
            "es",
            "it",
            "pt-br",
            "cs",
            "pl",
            "ja",
            "zh-hans",
            "ar",
        ]
        assert all(value == lang for value, lang, _name in options)
        # Choosing German without JavaScript: a plain POST, back to the same page in German.
        page.select_option("#ui-language", "de")
        page.click(".language-switcher button")
        page.wait_for_load_state()
        facts = _fits(page)
        assert facts["dir"] == "ltr" and facts["lang"] == "de", facts
        assert page.url.endswith("/login/")
    finally:
        context.close()
