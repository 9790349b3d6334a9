"""The entry and the look in a real browser (issue #14): the public landing in the browser's
language, a designed 404, the admin dashboard; no page asks any other host for anything
(no Gravatar, no CDN, no web font), and no image is broken.

Harness (Chromium, the live server, screenshots): ``tests/browser.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.browser import BROWSER_MARKS, DESKTOP, PHONE
from tests.browser import shoot as _shoot

pytestmark = BROWSER_MARKS


@pytest.fixture
def world(served):
    """The English library public, one public item and one for partners only, a brand with
    footer links, and a superuser's session."""
    from accounts.tests.factories import UserFactory
    from branding.services import brand_update
    from kb.services import Audience, library_for_locale, site_structure_ensure
    from kb.tests.factories import make_item

    site_structure_ensure(hostname="localhost", port=80)
    library = library_for_locale("en")
    library.audience_public = True
    library.save()
    make_item(
        key="programme", title="Partner programme at a glance", audience=Audience(public=True)
    )
    make_item(key="secret", title="Confidential price list")
    brand_update(
        portal_name="Altivo Partner Portal",
        primary_color="#12355b",
        legal_url="https://www.altivo.example/legal",
        privacy_url="https://www.altivo.example/privacy",
        support_email="partners@altivo.example",
    )
    admin = UserFactory(email="admin@vendor.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return {"url": served, "admin_session": client.cookies["sessionid"].value}


class Requests:
    """Every request a page makes (documents, styles, scripts, images, fonts, XHR)."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.failed: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("requestfailed", lambda request: self.failed.append(request.url))

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or url for url in self.urls if not _inline(url)}


def _inline(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:"))


def _broken_images(page) -> list[str]:
    return page.eval_on_selector_all(
        "img",
        # Shown images only (Wagtail's chooser keeps a hidden <img src=""> for "no image yet").
        """imgs => imgs.filter(i => i.getAttribute("src") && i.offsetParent !== null
            && i.complete && i.naturalWidth === 0).map(i => i.src)""",
    )


def test_landing_in_german_and_only_this_host(browser, world):
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    requests = Requests(page)
    try:
        response = page.goto(world["url"] + "/")
        page.wait_for_load_state("networkidle")
        _shoot(page, "entry-landing-de-390")
        assert response.status == 200
        assert page.locator('main[data-page="landing"]').count() == 1
        assert page.get_attribute("html", "lang") == "de"
        text = page.inner_text("main")
        assert "Partner programme at a glance" in text
        assert "Confidential price list" not in text
        assert page.locator('main a[href="/password-reset/"]').count() == 1
        assert page.locator('main a[href="/login/"]').count() == 1
        assert page.locator('footer.site-footer a[data-footer="legal"]').count() == 1
        # The brand's colour reaches the header through the brand stylesheet.
        background = page.eval_on_selector(
            ".site-header", "e => getComputedStyle(e).backgroundColor"
        )
        assert background == "rgb(18, 53, 91)"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        assert requests.hosts() == {"localhost"}, requests.urls
        assert not requests.failed and not _broken_images(page)
    finally:
        context.close()


def test_designed_404_and_only_this_host(browser, world):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    requests = Requests(page)
    try:
        response = page.goto(world["url"] + "/library/no-such-item/")
        page.wait_for_load_state("networkidle")
        _shoot(page, "entry-404-1280")
        assert response.status == 404
        assert page.locator('main[data-status="404"]').count() == 1
        assert page.locator("main form[role=search] input[name=q]").count() == 1
        assert page.locator(".site-header .brand").inner_text() == "Altivo Partner Portal"
        icon = page.request.get(world["url"] + "/favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
        assert requests.hosts() == {"localhost"}, requests.urls
        assert not requests.failed and not _broken_images(page)
    finally:
        context.close()


def test_admin_dashboard_asks_no_other_host(browser, world):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.add_cookies(
        [{"name": "sessionid", "value": world["admin_session"], "url": world["url"]}]
    )
    page = context.new_page()
    requests = Requests(page)
    try:
        response = page.goto(world["url"] + "/admin/")
        page.wait_for_load_state("networkidle")
        _shoot(page, "entry-admin-dashboard-1280")
        assert response.status == 200
        # The account menu's avatar: Wagtail's own default image, not Gravatar's.
        avatars = page.eval_on_selector_all(".avatar img", "imgs => imgs.map(i => i.src)")
        assert avatars and all(urlsplit(src).hostname == "localhost" for src in avatars)
        page.goto(world["url"] + "/admin/settings/branding/brandsettings/")
        page.wait_for_load_state("networkidle")
        assert page.locator("#id_primary_color").count() == 1
        assert requests.hosts() == {"localhost"}, requests.urls
        assert not requests.failed and not _broken_images(page)
    finally:
        context.close()
