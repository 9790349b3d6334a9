"""The /search/ page as a person reads it: text escaped once, facets in the UI language and
folded, a reason when search can find nothing, and the header's suggest box on every page."""

from __future__ import annotations

import re

import pytest

from accounts.tests.factories import UserFactory
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory
from search.backends import get_search_backend
from search.documents import html_to_text, iter_documents

pytestmark = pytest.mark.django_db

TITLE = 'Tom\'s "Zephyr" <b> & co'
BODY = "<p>Altivo&#x27;s &quot;zephyr&quot; &lt;tag&gt; &amp; more&nbsp;text</p>"
TAGS = [f"tag-{n:02d}" for n in range(12)]


@pytest.fixture(scope="module")
def world_ids(module_portal):
    """Built and indexed once per module; tests get fresh objects."""
    from wagtail.models import Locale

    from kb.services import product_ensure

    product = product_ensure(name="Zephyr Gateway")
    german = product.copy_for_translation(Locale.objects.get(language_code="de"))
    german.name = "Zephyr-Gateway (DE)"
    german.save()
    make_item(key="zephyr-sheet", title=TITLE, body=BODY, product=product, tags=TAGS)
    make_item(key="zephyr-guide", kind="training_guide", title="Zephyr setup", product=product)
    member = MembershipFactory(user__preferred_language="de").user
    suspended = MembershipFactory(organization__status="suspended").user
    loner = UserFactory()
    get_search_backend().rebuild(iter_documents())
    return {"member": member.pk, "suspended": suspended.pk, "loner": loner.pk}


@pytest.fixture
def users(db, world_ids):
    from accounts.models import User

    return {name: User.objects.get(pk=pk) for name, pk in world_ids.items()}


def test_html_to_text_decodes_character_references():
    assert html_to_text(BODY) == 'Altivo\'s "zephyr" <tag> & more text'


def test_title_and_snippet_are_escaped_exactly_once(client, users):
    users["member"].preferred_language = "en"
    users["member"].save(update_fields=["preferred_language"])
    client.force_login(users["member"])
    html = client.get("/search/", {"q": "zephyr"}).content.decode()
    # Escaped once (Django's escape), with the match marked; never escaped twice.
    assert "Tom&#x27;s &quot;<mark>Zephyr</mark>&quot; &lt;b&gt; &amp; co" in html
    assert "Altivo&#x27;s &quot;<mark>zephyr</mark>&quot; &lt;tag&gt; &amp; more text" in html
    for twice in ("&amp;#x27;", "&amp;quot;", "&amp;lt;", "&amp;amp;", "&amp;nbsp;"):
        assert twice not in html
    assert "<b> & co" not in html and "<tag>" not in html  # and never raw


def test_facets_speak_the_ui_language_and_fold(client, users):
    client.force_login(users["member"])  # German UI
    html = client.get("/search/", {"q": "zephyr"}).content.decode()
    facets = html[html.index('<aside class="facets"') :]
    assert facets.count('<details class="facet"') == 4  # kind, product, language, tags
    assert "Inhaltstyp" in facets  # the facet's heading
    assert re.search(r">Produktdatenblatt</a> <span class=\"count\">\(1\)", facets)
    assert ">Schulungsleitfaden</a>" in facets
    assert ">Zephyr-Gateway (DE)</a>" in facets  # the product's German name
    assert ">Englisch</a>" in facets  # the language named in German
    # Results name kind, product and language in German too.
    results = html[html.index('<ol class="search-results">') : html.index("</ol>")]
    assert "Produktdatenblatt · <bdi>Zephyr-Gateway (DE)</bdi> · Englisch" in results
    # Results come before the facets in the page (a phone shows a result first).
    assert html.index('<ol class="search-results">') < html.index('<aside class="facets"')
    # 12 tags: the 8 most frequent shown, 4 folded under a disclosure.
    tags = facets[facets.index('data-facet="tags"') :]
    shown, more = tags.split('<details class="facet-more">')
    assert shown.count("tag=tag-") == 8 and more.count("tag=tag-") == 4
    # A facet link keeps the query and the other filters.
    html = client.get("/search/", {"q": "zephyr", "type": "product_sheet"}).content.decode()
    assert "?q=zephyr&amp;type=product_sheet&amp;product=zephyr-gateway" in html


def test_a_suspended_member_is_told_why_there_are_no_results(client, users):
    client.force_login(users["suspended"])
    for params in ({"q": "zephyr"}, {}):
        html = client.get("/search/", params).content.decode()
        notice = re.search(
            r'<p class="notice" role="status" data-state="suspended">(.*?)</p>', html
        )
        assert notice and "access is suspended" in notice.group(1)
        assert "Check the spelling" not in html
    html = client.get("/search/", {"q": "zephyr"}).content.decode()
    assert "0 results" in html and "Zephyr" not in html.split('<ol class="search-results">')[1]


@pytest.mark.parametrize("who", ["anonymous", "loner"])
def test_without_partner_access_the_page_says_search_covers_public_items(client, users, who):
    if who == "loner":
        client.force_login(users["loner"])
    html = client.get("/search/", {"q": "zephyr"}).content.decode()
    state = "anonymous" if who == "anonymous" else "unaffiliated"
    assert f'data-state="{state}"' in html
    assert "public items only" in html
    assert "Check the spelling" not in html
    if who == "anonymous":
        assert 'href="/login/?next=/search/%3Fq%3Dzephyr"' in html


def test_a_partner_without_results_is_told_to_check_the_spelling(client, users):
    client.force_login(users["member"])
    html = client.get("/search/", {"q": "qwertzuiop"}).content.decode()
    assert "data-state=" not in html
    assert '<li class="search-empty">' in html


def test_suggest_endpoint_is_unchanged(client, users):
    client.force_login(users["member"])
    response = client.get("/search/suggest/", {"q": "zeph"})
    assert response["Cache-Control"] == "private, no-store"
    suggestions = response.json()["suggestions"]
    assert {s["title"] for s in suggestions} == {TITLE, "Zephyr setup"}
    assert all(set(s) == {"title", "url"} for s in suggestions)
    client.force_login(users["suspended"])
    assert client.get("/search/suggest/", {"q": "zeph"}).json() == {"suggestions": []}


def test_header_search_box_is_a_combobox_on_every_page(client, users):
    client.force_login(users["member"])
    for path in ("/portal/account/profile/", "/search/"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        box = re.search(r'<input id="header-q"[^>]*>', html).group(0)
        assert 'role="combobox"' in box and 'aria-controls="header-q-list"' in box
        assert 'aria-expanded="false"' in box and 'data-suggest-url="/search/suggest/"' in box
        assert '<ul id="header-q-list" role="listbox"' in html
        assert re.search(r'<script src="[^"]*js/search-suggest\.js" defer>', html)
        # Without JavaScript the box still submits to the search page.
        assert '<form method="get" action="/search/" role="search" class="header-search">' in html
