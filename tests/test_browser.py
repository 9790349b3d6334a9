"""The portal in a real browser: Arabic pages are right-to-left and fit a 390 px phone.

Harness (Chromium, the live server, screenshots): ``tests/browser.py``.
``PORTAL_SCREENSHOTS=/some/folder`` also saves each page at 390 px and 1280 px, to look at.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.browser import BROWSER_MARKS, DESKTOP, PHONE
from tests.browser import shoot as _shoot

pytestmark = BROWSER_MARKS

LONG_TITLE = "بطاقة المنافسة الشاملة لموجه الشبكات F9 مع مقارنة تفصيلية للأداء والتسعير والدعم"


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
