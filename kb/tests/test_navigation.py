"""Navigation and library (issue #14): the header's sections, products and kinds with counts of
what the user may see, the library over every language (the reader's first, one entry per
translation group), its filters, product pages and breadcrumbs, at bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from wagtail.models import Locale

from accounts.models import User
from kb.models import LibraryIndexPage, PortalItemPage
from kb.navigation import portal_nav
from kb.services import Audience, library_for_locale, product_ensure
from kb.tests.factories import make_item
from kb.tests.test_snippets import product_translation
from permissions.tests.factories import MembershipFactory, TierFactory

pytestmark = pytest.mark.django_db


def _translate(source, code: str, title: str):
    copy = source.copy_for_translation(Locale.objects.get(language_code=code))
    copy.title = title
    copy.save_revision().publish()
    return PortalItemPage.objects.get(pk=copy.pk)


@pytest.fixture
def world(portal):
    """Anna (gold, German) and Claire (silver): an X1 sheet with its German translation, a W3
    guide in a sub-section, a gold-only asset of a product that has nothing else (Claire must
    never see it named or counted)."""
    silver, gold = TierFactory(key="silver", rank=1), TierFactory(key="gold", rank=2)
    anna = User.objects.get(pk=MembershipFactory(organization__tier=gold).user_id)
    anna.preferred_language = "de"
    anna.save()
    claire = User.objects.get(pk=MembershipFactory(organization__tier=silver).user_id)
    en = library_for_locale("en")
    sub = LibraryIndexPage(title="Training", slug="training")
    en.add_child(instance=sub)
    sub.save_revision().publish()
    x1 = product_ensure(name="X1 Router")
    product_translation(x1, "de", "X1-Router")
    w3 = product_ensure(name="W3 Access Point")
    secret = product_ensure(name="Zephyr Secret")
    x1_sheet = make_item(
        key="x1-sheet", title="X1 datasheet", product=x1, tags=["datasheet"], extra={}
    )
    x1_de = _translate(x1_sheet, "de", "X1 Datenblatt")
    guide = make_item(
        key="w3-guide",
        kind="training_guide",
        title="W3 course",
        product=w3,
        parent=sub,
        tags=["install"],
    )
    hidden = make_item(
        key="zephyr",
        kind="marketing_asset",
        title="Zephyr launch kit",
        product=secret,
        audience=Audience(min_tier=gold),
    )
    return {
        "anna": anna, "claire": claire, "x1_sheet": x1_sheet, "x1_de": x1_de, "guide": guide,
        "hidden": hidden, "sub": sub, "de_library": library_for_locale("de"), "en": en,
    }  # fmt: skip


def _fresh(user):
    return User.objects.get(pk=user.pk)  # a new principal, as per request


def test_nav_counts_only_what_each_user_may_see(world):
    with translation.override("de"):
        anna = portal_nav(user=_fresh(world["anna"]))
    # One per translation group: the X1 sheet and its German translation count once.
    assert anna.library.count == 3
    assert {p.key: (p.title, p.count) for p in anna.products} == {
        "x1-router": ("X1-Router", 1),
        "w3-access-point": ("W3 Access Point", 1),
        "zephyr-secret": ("Zephyr Secret", 1),
    }
    assert {k.key: k.count for k in anna.kinds} == {
        "product_sheet": 1,
        "training_guide": 1,
        "marketing_asset": 1,
    }
    assert [(s.title, s.count) for s in anna.sections] == [("Training", 1)]

    with translation.override("en"):
        claire = portal_nav(user=_fresh(world["claire"]))
    assert claire.library.count == 2
    assert {p.key for p in claire.products} == {"x1-router", "w3-access-point"}
    assert {k.key for k in claire.kinds} == {"product_sheet", "training_guide"}
    assert "zephyr-secret" not in {p.key for p in portal_nav(user=None).products}


def test_header_nav_in_pages(world, client):
    client.force_login(world["claire"])
    html = client.get(world["en"].url).content.decode()
    assert '<nav class="portal-nav"' in html
    assert "W3 Access Point" in html and "/portal/products/x1-router/" in html
    assert "Zephyr" not in html  # neither the product nor the item
    client.logout()
    assert '<nav class="portal-nav"' not in client.get("/login/").content.decode()


def test_the_nav_follows_a_publish(world):
    claire = _fresh(world["claire"])
    assert portal_nav(user=claire).library.count == 2
    make_item(key="new-one", title="New one")
    assert portal_nav(user=_fresh(world["claire"])).library.count == 3


def test_library_lists_every_language_readers_first_translation_preferred(world, client):
    client.force_login(world["anna"])
    html = client.get(world["de_library"].url).content.decode()
    # The German X1 first, its English source not at all, the English items after it.
    assert "X1 Datenblatt" in html and "X1 datasheet" not in html
    assert html.index("X1 Datenblatt") < html.index("W3 course") and "Zephyr launch kit" in html
    # Claire (English UI) gets the English X1 and never the gold-only item.
    client.force_login(world["claire"])
    html = client.get(world["en"].url).content.decode()
    assert "X1 datasheet" in html and "X1 Datenblatt" not in html
    assert "Zephyr" not in html and "W3 course" in html
    # One language only.
    html = client.get(world["en"].url, {"language": "de"}).content.decode()
    assert "X1 Datenblatt" in html and "W3 course" not in html


def _titles(client, url, **params) -> set[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return {item.title for item in response.context["listing"].page.object_list}


def test_each_filter(world, client):
    client.force_login(world["anna"])
    url = world["de_library"].url
    assert _titles(client, url) == {"X1 Datenblatt", "W3 course", "Zephyr launch kit"}
    assert _titles(client, url, type="training_guide") == {"W3 course"}
    assert _titles(client, url, product="x1-router") == {"X1 Datenblatt"}
    assert _titles(client, url, tag="install") == {"W3 course"}
    assert _titles(client, url, language="en") == {"X1 datasheet", "W3 course", "Zephyr launch kit"}
    PortalItemPage.objects.filter(pk=world["guide"].pk).update(
        last_published_at=timezone.now() - timedelta(days=40)
    )
    assert _titles(client, url, since="30") == {"X1 Datenblatt", "Zephyr launch kit"}
    assert "W3 course" in _titles(client, url, since="90")
    # Tags are chosen from a list (of visible items' tags), and a filter in force can be removed.
    response = client.get(url, {"tag": "install"})
    html = response.content.decode()
    assert '<select id="f-tag" name="tag">' in html and 'value="datasheet"' in html
    assert [f.label for f in response.context["listing"].active_filters] == ["install"]


def test_filters_offer_only_what_the_user_may_see(world, client):
    client.force_login(world["claire"])
    listing = client.get(world["en"].url).context["listing"]
    assert "zephyr-secret" not in {p.key for p in listing.products}
    assert "marketing_asset" not in {k for k, _label in listing.kinds}


def test_product_page(world, client):
    client.force_login(world["anna"])
    response = client.get("/portal/products/x1-router/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<bdi>X1-Router</bdi>" in html and "X1 Datenblatt" in html
    assert 'data-kind="product_sheet"' in html
    assert '<nav class="breadcrumbs"' in html and 'aria-current="page"' in html
    assert client.get("/portal/products/zephyr-secret/").status_code == 200
    # Claire may see nothing of it: the product does not exist for her.
    client.force_login(world["claire"])
    assert client.get("/portal/products/zephyr-secret/").status_code == 404
    assert client.get("/portal/products/no-such-product/").status_code == 404
    assert client.get("/portal/products/x1-router/").status_code == 200
    client.logout()
    assert client.get("/portal/products/x1-router/").status_code == 302


def test_item_page_links_its_product_and_has_breadcrumbs(world, client):
    client.force_login(world["claire"])
    html = client.get(world["guide"].url).content.decode()
    assert '<a href="/portal/products/w3-access-point/"><bdi>W3 Access Point</bdi></a>' in html
    crumbs = html[html.index('<nav class="breadcrumbs"') :]
    crumbs = crumbs[: crumbs.index("</nav>")]
    assert "<ol>" in crumbs
    assert crumbs.index(">Home<") < crumbs.index(">Library<") < crumbs.index(">Training<")
    assert '<span aria-current="page" lang="en">W3 course</span>' in crumbs
    html = client.get(world["sub"].url).content.decode()
    assert '<span aria-current="page" lang="en">Training</span>' in html


def _queries(client, url, **params) -> int:
    client.get(url, params)  # warm caches and compiled statements
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_catalogue(world, client, django_assert_max_num_queries):
    client.force_login(world["anna"])
    urls = [
        (world["de_library"].url, {}),
        (world["de_library"].url, {"tag": "install", "since": "30"}),
        ("/portal/products/x1-router/", {}),
        (world["x1_de"].url, {}),
    ]
    small = [_queries(client, url, **params) for url, params in urls]
    x1 = world["x1_sheet"].product
    for n in range(12):
        item = make_item(key=f"more-{n}", title=f"More {n}", product=x1, tags=["install"])
        if n % 3 == 0:
            _translate(item, "de", f"Mehr {n}")
    large = [_queries(client, url, **params) for url, params in urls]
    assert large == small
    for (url, params), count in zip(urls, small, strict=True):
        with django_assert_max_num_queries(count):
            client.get(url, params)


def test_a_suspended_member_gets_no_navigation(world, client):
    from permissions.models import PartnerOrganization

    member = MembershipFactory(organization__status=PartnerOrganization.Status.SUSPENDED)
    user = User.objects.get(pk=member.user_id)
    assert portal_nav(user=user).library is None
    client.force_login(user)
    html = client.get("/portal/account/profile/").content.decode()
    assert '<nav class="portal-nav"' not in html
    # Whole names, not "X1": a random CSRF token on the page once held "X1".
    for name in (
        "X1 Router",
        "X1 datasheet",
        "X1 Datenblatt",
        "W3 Access Point",
        "W3 course",
        "Zephyr",
    ):
        assert name not in html, name
    assert client.get("/portal/products/x1-router/").status_code == 404
