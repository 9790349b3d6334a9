"""The page editor in a real browser (issue #14, "Editors"): opening a page saves no revision,
a create form is never autosaved, and "Preview as" shows the page as a chosen organisation.

Harness: ``tests/browser.py`` (Debian's Chromium through Playwright, a live server sharing the
test's database connection); marker ``browser``.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.browser import BROWSER_MARKS, DESKTOP
from tests.browser import shoot as _shoot

pytestmark = BROWSER_MARKS

# Wagtail takes the form's starting state 2 s after load and autosaves 0.5 s after a change.
SETTLE_MS = 3500


@pytest.fixture
def editor_world(served):
    from accounts.models import User
    from kb.services import Audience, site_structure_ensure
    from kb.tests.factories import make_item
    from permissions.tests.factories import OrganizationFactory, TierFactory

    site_structure_ensure(hostname="localhost", port=80)
    gold = TierFactory(key="gold", rank=2)
    silver = TierFactory(key="silver", rank=1)
    OrganizationFactory(name="Goldhaus GmbH", tier=gold)
    acme = OrganizationFactory(name="Acme GmbH", tier=silver)
    item = make_item(
        key="x1", title="X1 datasheet", body="<p>Router facts</p>", audience=Audience(min_tier=gold)
    )
    editor = User.objects.create_superuser(email="eva@vendor.example", password="x")
    client = Client()
    client.force_login(editor)
    return {"url": served, "item": item, "acme": acme, "session": client.cookies["sessionid"].value}


@pytest.fixture
def editor_page(browser, editor_world):
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies(
        [{"name": "sessionid", "value": editor_world["session"], "url": editor_world["url"]}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(
        "window.__starts = 0;"
        "document.addEventListener('w-unsaved:watch-edits', () => { window.__starts += 1; });"
    )
    yield page, errors
    context.close()


def _wait_for_starting_state(page) -> None:
    # Polled from here: the admin's Content-Security-Policy forbids the eval of wait_for_function.
    for _ in range(100):
        if page.evaluate("() => window.__starts") >= 1:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)  # Wagtail may take it twice (its second read ends the start)


def test_opening_a_page_saves_no_revision(editor_page, editor_world):
    page, errors = editor_page
    item = editor_world["item"]
    before = item.revisions.count()
    page.goto(f"{editor_world['url']}/admin/pages/{item.pk}/edit/")
    _wait_for_starting_state(page)
    # A widget re-serialising its value after the starting state was taken, as Draftail does
    # on a slow machine: not an edit.
    page.evaluate(
        "() => { const input = document.querySelector('input[name=body]');"
        " input.value = JSON.stringify(JSON.parse(input.value)); }"
    )
    page.wait_for_timeout(SETTLE_MS)
    assert item.revisions.count() == before
    _shoot(page, "editors-open")
    # A real edit is still autosaved.
    with page.expect_response(lambda r: r.request.method == "POST" and "/edit/" in r.url):
        page.locator("#id_summary").press_sequentially(" Updated.")
    assert item.revisions.count() == before + 1
    assert errors == []


def test_an_abandoned_create_form_leaves_no_page(editor_page, editor_world):
    from wagtail.models import Page

    from kb.services import library_for_locale

    page, errors = editor_page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    library = library_for_locale("en")
    page.goto(f"{editor_world['url']}/admin/pages/add/kb/libraryindexpage/{library.pk}/")
    _wait_for_starting_state(page)
    page.locator("#id_title").press_sequentially("Gold corner")
    page.wait_for_timeout(SETTLE_MS)
    assert not [url for url in posts if "/pages/add/" in url]
    assert not Page.objects.filter(title="Gold corner").exists()
    assert errors == []


def test_preview_as_an_organisation_from_the_keyboard(editor_page, editor_world):
    page, errors = editor_page
    item = editor_world["item"]
    revisions = item.revisions.count()
    page.goto(f"{editor_world['url']}/admin/pages/{item.pk}/edit/#tab-audience")
    page.get_by_role("tab", name="Audience").focus()
    page.keyboard.press("Enter")
    chooser = page.get_by_label("Organisation or partner user")
    chooser.select_option(label="Acme GmbH")
    page.get_by_role("button", name="Show in preview").focus()
    page.keyboard.press("Enter")
    status = page.locator("[data-kb-preview-as-status]")
    status.filter(has_text="Acme GmbH").wait_for()
    frame = page.frame_locator("#w-preview-iframe")
    banner = frame.locator('[data-preview-as="hidden"]')
    banner.wait_for()
    assert "Acme GmbH would not see this page" in banner.inner_text()
    assert "tier Silver < Gold" in banner.inner_text()
    _shoot(page, "editors-preview-as")
    assert item.revisions.count() == revisions  # previewing saved nothing
    assert errors == []
