"""kb.selectors.library_listing: the page of a library section, its bounded count and its pager."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from kb.models import LibraryIndexPage, PortalItemPage
from kb.selectors import library_listing
from kb.services import Audience, library_for_locale, product_ensure
from kb.tests.factories import make_item
from permissions.services import audience_set_exceptions, audience_set_grants
from permissions.tests.factories import MembershipFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(portal):
    """13 items below the English library (one in a sub-section, one excepted, three above the
    partner's tier, one of those granted), the partner and what the policy lets it see."""
    silver, gold = TierFactory(key="silver", rank=1), TierFactory(key="gold", rank=2)
    partner = MembershipFactory(organization__tier=silver)
    library = library_for_locale("en")
    sub = LibraryIndexPage(title="Sub", slug="sub")
    library.add_child(instance=sub)
    sub.save_revision().publish()
    product = product_ensure(name="X1")
    items = [make_item(key=f"item-{n}", product=product if n % 2 else None) for n in range(8)]
    items.append(make_item(key="in-sub", parent=sub))
    excepted = make_item(key="excepted")
    audience_set_exceptions(page=excepted, organizations=[partner.organization])
    gold_only = [make_item(key=f"gold-{n}", audience=Audience(min_tier=gold)) for n in range(3)]
    audience_set_grants(page=gold_only[0], organizations=[partner.organization])
    user = User.objects.get(pk=partner.user_id)
    expected = list(
        PortalItemPage.objects.live()
        .visible_to(user)
        .filter(path__startswith=library.path, depth__gt=library.depth)
        .order_by("-last_published_at", "-pk")
    )
    assert len(expected) == 10  # 8 + in-sub + the granted gold item
    return {"library": library, "user": user, "expected": expected, "product": product}


def listing(world, **params):
    user = User.objects.get(pk=world["user"].pk)  # a fresh principal, as per request
    query = QueryDict(mutable=True)
    query.update(params)
    return library_listing(user=user, section=world["library"], params=query)


def walk(world, **params) -> list[int]:
    """Every item of every page, following the pager."""
    listed, number = [], 1
    while True:
        page = listing(world, page=str(number), **params).page
        assert page.number == number
        listed += [item.pk for item in page.object_list]
        if not page.has_next:
            return listed
        number += 1


def test_exact_count_below_the_bound(world, settings):
    settings.PORTAL_PAGE_SIZE = 4
    page = listing(world).page
    assert (page.count, page.count_exact, page.num_pages) == (10, True, 3)
    assert [i.pk for i in page.object_list] == [i.pk for i in world["expected"][:4]]
    assert walk(world) == [i.pk for i in world["expected"]]
    last = listing(world, page="3").page
    assert (last.number, last.has_next, last.has_previous, len(last.object_list)) == (
        3,
        False,
        True,
        2,
    )


@pytest.mark.parametrize("bound", [3, 4, 9])
def test_beyond_the_bound_every_item_is_still_listed_once_and_in_order(world, settings, bound):
    settings.PORTAL_PAGE_SIZE = 3
    settings.PORTAL_LISTING_EXACT_LIMIT = bound
    assert walk(world) == [i.pk for i in world["expected"]]
    first = listing(world).page
    assert (first.count_exact, first.num_pages, first.count) == (False, None, bound)
    assert first.has_next and not first.has_previous
    # The last page knows the total again: the items before it plus its own.
    last = listing(world, page="4").page
    assert (last.count, last.count_exact, last.num_pages, last.has_next) == (10, True, 4, False)
    # A page past the bound but not the last says how many it has seen at least.
    if bound < 6:
        middle = listing(world, page="2").page
        assert (middle.count, middle.count_exact, middle.has_next) == (6, False, True)


@pytest.mark.parametrize("bound", [3, 1000])
def test_out_of_range_pages_answer_as_djangos_paginator(world, settings, bound):
    settings.PORTAL_PAGE_SIZE = 3
    settings.PORTAL_LISTING_EXACT_LIMIT = bound
    last = [i.pk for i in world["expected"][9:]]
    for raw in ("0", "-2", "5", "99999999999999999999999"):  # below 1 or past the end: the last
        page = listing(world, page=raw).page
        assert (page.number, [i.pk for i in page.object_list], page.count_exact) == (4, last, True)
    for raw in ("", "abc", "1.5"):  # not a number: the first
        assert listing(world, page=raw).page.number == 1


def test_filters_narrow_the_same_statements(world, settings):
    settings.PORTAL_LISTING_EXACT_LIMIT = 3
    product = [i.pk for i in world["expected"] if i.product_id == world["product"].pk]
    assert walk(world, product="x1") == product
    assert walk(world, language="de") == []
    assert walk(world, language="all") == [i.pk for i in world["expected"]]
    assert walk(world, language="xx") == []


def test_more_than_n_items_on_the_page(world, settings, client):
    settings.PORTAL_PAGE_SIZE = 4
    settings.PORTAL_LISTING_EXACT_LIMIT = 5
    client.force_login(world["user"])
    html = client.get(world["library"].url).content.decode()
    assert ">More than 5 items<" in html
    assert "<span>Page 1</span>" in html and 'rel="next"' in html
    html = client.get(world["library"].url, {"page": 3}).content.decode()
    assert ">10 items<" in html and "Page 3 of 3" in html and 'rel="next"' not in html
    settings.PORTAL_LISTING_EXACT_LIMIT = 1000
    html = client.get(world["library"].url).content.decode()
    assert ">10 items<" in html and "Page 1 of 3" in html


def test_queries_per_page_do_not_depend_on_the_page_or_the_bound(world, settings, client):
    settings.PORTAL_PAGE_SIZE = 3
    client.force_login(world["user"])
    counts = set()
    for bound in (3, 1000):
        settings.PORTAL_LISTING_EXACT_LIMIT = bound
        for number in (1, 2, 4):
            client.get(world["library"].url, {"page": number})  # compile the statements
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(world["library"].url, {"page": number}).status_code == 200
            counts.add(len(ctx.captured_queries))
    assert len(counts) == 1, counts


# --- products named in the content language (docs/decisions.md, "Products are translatable") --


@pytest.fixture
def products_world(portal):
    """A partner; X5 translated into Czech, F9 not; Czech items of both, an English X5 item."""
    from kb.tests.test_snippets import product_translation

    partner = MembershipFactory()
    x5 = product_ensure(name="X5 Switch")
    product_translation(x5, "cs", "Přepínač X5")
    f9 = product_ensure(name="F9 Firewall")
    cs_library = library_for_locale("cs")
    return {
        "user": User.objects.get(pk=partner.user_id),
        "x5": x5,
        "f9": f9,
        "cs_library": cs_library,
        "cs_x5": make_item(key="cs-x5", title="X5 list", parent=cs_library, product=x5),
        "cs_f9": make_item(key="cs-f9", title="F9 list", parent=cs_library, product=f9),
        "en_x5": make_item(key="en-x5", title="X5 sheet", product=x5),
    }


def test_the_listing_names_products_in_the_sections_language(products_world):
    from kb.home import home_feed

    w = products_world
    cs = library_listing(user=w["user"], section=w["cs_library"], params=QueryDict("language=cs"))
    # One filter value per product (key), its translation's name when there is one.
    assert [(p.key, p.display_name) for p in cs.products] == [
        ("f9-firewall", "F9 Firewall"),
        ("x5-switch", "Přepínač X5"),
    ]
    assert all(p.locale_id == w["x5"].locale_id for p in cs.products)  # the source rows
    assert {i.title: i.product.display_name for i in cs.page.object_list} == {
        "X5 list": "Přepínač X5",
        "F9 list": "F9 Firewall",
    }
    en = library_listing(
        user=w["user"], section=library_for_locale("en"), params=QueryDict("language=en")
    )
    assert {i.title: i.product.display_name for i in en.page.object_list} == {
        "X5 sheet": "X5 Switch"
    }
    # Every language (the default): the English item too, its product named in Czech.
    every = library_listing(user=w["user"], section=w["cs_library"], params=QueryDict())
    assert {i.title: i.product.display_name for i in every.page.object_list} == {
        "X5 list": "Přepínač X5",
        "F9 list": "F9 Firewall",
        "X5 sheet": "Přepínač X5",
    }
    # The product filter is by key: the Czech items of the (source) product.
    filtered = library_listing(
        user=w["user"], section=w["cs_library"], params=QueryDict("product=x5-switch&language=cs")
    )
    assert [i.title for i in filtered.page.object_list] == ["X5 list"]
    # The Czech home names every item's product in Czech, the English item's too.
    feed = home_feed(user=w["user"], home=w["cs_library"].get_parent())
    assert {i.title: i.product.display_name for i in feed.new_for_you} == {
        "X5 list": "Přepínač X5",
        "F9 list": "F9 Firewall",
        "X5 sheet": "Přepínač X5",
    }


def test_pages_show_the_product_name_in_their_language(products_world, client):
    w = products_world
    client.force_login(w["user"])
    html = client.get(w["cs_library"].url).content.decode()
    assert ">Přepínač X5</option>" in html and "<bdi>Přepínač X5</bdi>" in html
    # The library's content (the header names products in the UI language: English here).
    assert "X5 Switch" not in html[html.index("<main") :]
    assert "<bdi>Přepínač X5</bdi>" in client.get(w["cs_x5"].url).content.decode()
    html = client.get(w["en_x5"].url).content.decode()
    assert "<bdi>X5 Switch</bdi>" in html and "Přepínač" not in html


def test_product_names_cost_no_query_per_item_or_product(products_world, client):
    from kb.tests.test_snippets import product_translation

    w = products_world
    client.force_login(w["user"])

    def queries() -> int:
        client.get(w["cs_library"].url)  # warm the caches and compiled statements
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(w["cs_library"].url).status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for n in range(4):
        product = product_ensure(name=f"P{n}")
        product_translation(product, "cs", f"P{n} (cs)")
        make_item(key=f"cs-p{n}", parent=w["cs_library"], product=product)
    assert queries() == before
