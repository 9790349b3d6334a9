"""The portal home's routing (``PortalHomePage.route``, issue #16 capacity): the deepest page a
path reaches is found by ``url_path`` in two queries, and the answer is always Wagtail's own
(``Page.route``, one level at a time): the same page, or the same 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wagtail.models import Page

from kb.models import LibraryIndexPage, PortalHomePage
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db


def _route(route, home: PortalHomePage, components: list[str]) -> int | None:
    """The routed page's id, or None for a 404."""
    try:
        return route(home, RequestFactory().get("/"), components)[0].pk
    except Http404:
        return None


@pytest.fixture
def tree(portal):
    """en home › library › section › sub-section › items; an unpublished item and an
    unpublished section whose (live) child Wagtail still routes to."""
    library = LibraryIndexPage.objects.get(depth=3, locale__language_code="en")
    section = library.add_child(instance=LibraryIndexPage(title="Routers", slug="routers"))
    section.save_revision().publish()
    sub = section.add_child(instance=LibraryIndexPage(title="Wi-Fi", slug="wifi"))
    sub.save_revision().publish()
    make_item(key="r-x1", title="X1 sheet", parent=sub)
    make_item(key="r-w3", title="W3 sheet", parent=section)
    gone = make_item(key="r-gone", title="Gone sheet", parent=sub)
    gone.unpublish()
    hidden = library.add_child(instance=LibraryIndexPage(title="Hidden", slug="hidden"))
    hidden.save_revision().publish()
    make_item(key="r-under-hidden", title="Under hidden", parent=hidden)
    hidden.unpublish()
    home = PortalHomePage.objects.get(locale__language_code="en")
    slugs = sorted({p.slug for p in Page.objects.descendant_of(home)} | {"nope", "x", "routers2"})
    return home, slugs


def test_every_page_of_the_tree_routes_as_wagtail_routes_it_in_two_queries(tree):
    home, _slugs = tree
    for page in Page.objects.descendant_of(home):
        components = [c for c in page.url_path[len(home.url_path) :].split("/") if c]
        expected = _route(Page.route, home, components)
        with CaptureQueriesContext(connection) as queries:
            assert _route(PortalHomePage.route, home, components) == expected, page.url_path
        if expected is not None:
            assert len(queries) <= 2 + 1, [q["sql"] for q in queries]  # + the page's own route

    # Wagtail's answers, kept: a live item below an unpublished section is routed; an
    # unpublished item is not; a path beyond an item is not.
    def path_of(title: str) -> list[str]:
        page = Page.objects.get(title=title)
        return [c for c in page.url_path[len(home.url_path) :].split("/") if c]

    assert _route(PortalHomePage.route, home, path_of("Under hidden")) is not None
    assert _route(PortalHomePage.route, home, path_of("Gone sheet")) is None
    assert _route(PortalHomePage.route, home, path_of("W3 sheet")) is not None
    assert _route(PortalHomePage.route, home, [*path_of("W3 sheet"), "x"]) is None


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_path_routes_as_wagtail_routes_it(tree, data):
    home, slugs = tree
    components = data.draw(st.lists(st.sampled_from(slugs), max_size=5))
    assert _route(PortalHomePage.route, home, components) == _route(Page.route, home, components)
