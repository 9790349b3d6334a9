"""Search in a real browser: the header box suggests on every page and is driven by the keyboard
(ARIA 1.2 combobox), the search page shows a result within a phone's first screen, and without
JavaScript the box still searches.

Harness (Chromium, the live server, screenshots): ``tests/browser.py``.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.browser import BROWSER_MARKS, DESKTOP, PHONE
from tests.browser import shoot as _shoot

pytestmark = BROWSER_MARKS

PROFILE = "/portal/account/profile/"


@pytest.fixture
def world(served):
    """A German partner of an active organisation; items about the "Zephyr" product with many
    tags (the demo's queries bring 30+ tag facets), indexed."""
    from accounts.tests.factories import UserFactory
    from kb.services import product_ensure, site_structure_ensure
    from kb.tests.factories import make_item
    from permissions.tests.factories import MembershipFactory
    from search.backends import get_search_backend
    from search.documents import iter_documents

    site_structure_ensure(hostname="localhost", port=80)
    user = UserFactory(email="anna.schmidt@acme.example", preferred_language="de")
    MembershipFactory(user=user)
    product = product_ensure(name="Zephyr Gateway")
    kinds = ["product_sheet", "training_guide", "marketing_asset"]
    items = [
        make_item(
            key=f"zephyr-{n}",
            kind=kinds[n % 3],
            title=f"Zephyr gateway item {n:02d}",
            summary="A long summary about the Zephyr gateway for partners in the region. " * 2,
            product=product,
            tags=[f"topic-{n * 3 + k:02d}" for k in range(6)],
        )
        for n in range(12)
    ]
    get_search_backend().rebuild(iter_documents())
    client = Client()
    client.force_login(user)
    return {"items": items, "session": client.cookies["sessionid"].value, "url": served}


def _page(browser, world, viewport, **options):
    context = browser.new_context(viewport=viewport, locale="de-DE", **options)
    context.add_cookies([{"name": "sessionid", "value": world["session"], "url": world["url"]}])
    page = context.new_page()
    errors: list[str] = []
    # (The favicon is another part of #14: its 404 is not this page's error.)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _combobox(page) -> dict:
    return page.evaluate(
        """() => {
            const box = document.getElementById("header-q");
            const list = document.getElementById(box.getAttribute("aria-controls"));
            const options = [...list.querySelectorAll('[role="option"]')];
            return {
                role: box.getAttribute("role"),
                expanded: box.getAttribute("aria-expanded"),
                active: box.getAttribute("aria-activedescendant"),
                listId: list.id, listRole: list.getAttribute("role"), hidden: list.hidden,
                options: options.map(o => [o.id, o.getAttribute("aria-selected"), o.textContent]),
                status: document.getElementById("header-q-status").textContent,
                focused: document.activeElement === box,
            };
        }"""
    )


def test_header_suggest_with_the_keyboard_on_a_page_that_is_not_search(browser, world):
    context, page, errors = _page(browser, world, DESKTOP)
    try:
        page.goto(world["url"] + PROFILE)
        state = _combobox(page)
        assert state["role"] == "combobox" and state["expanded"] == "false", state
        assert state["listId"] == "header-q-list" and state["listRole"] == "listbox", state
        page.focus("#header-q")
        page.keyboard.type("zephyr gate")
        page.wait_for_selector('#header-q-list:not([hidden]) [role="option"]')
        state = _combobox(page)
        assert state["expanded"] == "true" and len(state["options"]) >= 2, state
        assert all(title.startswith("Zephyr gateway item") for _id, _s, title in state["options"])
        assert str(len(state["options"])) in state["status"], state  # the count, for readers
        assert state["active"] is None and state["focused"], state
        # Down: the first option; Down again: the second; Up: back to the first.
        page.keyboard.press("ArrowDown")
        state = _combobox(page)
        first_id = state["options"][0][0]
        assert state["active"] == first_id and state["options"][0][1] == "true", state
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
        assert _combobox(page)["active"] == first_id
        _shoot(page, "search-header-suggest-1280")
        # Escape closes the list and keeps the text; Down opens it again.
        page.keyboard.press("Escape")
        state = _combobox(page)
        assert state["hidden"] and state["expanded"] == "false" and state["active"] is None
        assert page.input_value("#header-q") == "zephyr gate"
        page.keyboard.press("ArrowDown")
        state = _combobox(page)
        assert not state["hidden"] and state["active"] == first_id, state
        # Enter opens the chosen suggestion (not the search page).
        chosen = state["options"][0][2]
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/search/" not in page.url
        assert page.locator("h1").first.inner_text().strip() == chosen
        assert errors == [], errors
    finally:
        context.close()


def test_header_suggest_with_the_mouse_and_enter_without_a_choice_searches(browser, world):
    context, page, errors = _page(browser, world, DESKTOP)
    try:
        page.goto(world["url"] + PROFILE)
        page.fill("#header-q", "zephyr gateway item 07")
        option = page.wait_for_selector('#header-q-list:not([hidden]) [role="option"]')
        with page.expect_navigation():
            option.click()
        assert page.locator("h1").first.inner_text().strip() == "Zephyr gateway item 07"
        # Enter with no suggestion chosen searches as the form does.
        page.fill("#header-q", "zephyr")
        page.wait_for_selector('#header-q-list:not([hidden]) [role="option"]')
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/search/?q=zephyr" in page.url
        assert errors == [], errors
    finally:
        context.close()


def test_without_javascript_the_header_box_searches(browser, world):
    context, page, _errors = _page(browser, world, PHONE, java_script_enabled=False)
    try:
        page.goto(world["url"] + PROFILE)
        page.fill("#header-q", "zephyr")
        with page.expect_navigation():
            page.press("#header-q", "Enter")
        assert "/search/?q=zephyr" in page.url
        assert page.locator(".search-results li h3").count() == len(world["items"])
    finally:
        context.close()


def test_search_on_a_phone_shows_a_result_in_the_first_screen(browser, world):
    context, page, errors = _page(browser, world, PHONE)
    try:
        page.goto(world["url"] + "/search/?q=zephyr")
        facts = page.evaluate(
            """() => {
                const first = document.querySelector(".search-results li");
                const box = first.getBoundingClientRect();
                return {
                    firstBottom: box.bottom + window.scrollY,
                    tagFacets: document.querySelectorAll('[data-facet="tags"] a').length,
                    tagsShown: [...document.querySelectorAll('[data-facet="tags"] a')]
                        .filter(a => a.checkVisibility()).length,
                    scrollWidth: document.documentElement.scrollWidth,
                    facets: document.querySelectorAll("details.facet").length,
                };
            }"""
        )
        _shoot(page, "search-phone-390")
        assert facts["firstBottom"] <= PHONE["height"], facts  # a whole result above the fold
        assert facts["scrollWidth"] <= PHONE["width"], facts  # no sideways scroll
        assert facts["facets"] == 4, facts
        assert facts["tagFacets"] > 30 and facts["tagsShown"] == 8, facts  # the rest folded
        # The folded tags open with the keyboard.
        page.focus('[data-facet="tags"] .facet-more > summary')
        page.keyboard.press("Enter")
        shown = page.eval_on_selector_all(
            '[data-facet="tags"] a', "els => els.filter(a => a.checkVisibility()).length"
        )
        assert shown == facts["tagFacets"]
        assert errors == [], errors
    finally:
        context.close()
