"""The /search/ page and the suggest endpoint (database backend, the embedded default)."""

from __future__ import annotations

import socket
import threading

import pytest
from django.test import override_settings

from kb.services import Audience
from kb.tests.factories import make_item
from permissions.services import audience_set_exceptions
from permissions.tests.factories import MembershipFactory, TierFactory
from search.backends import get_search_backend
from search.documents import iter_documents

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world_ids(module_portal):
    """Built and indexed once per module (tests/fixtures.py, module_db); tests get fresh objects."""
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    open_items = [
        make_item(
            key=f"guide-{i}",
            kind="training_guide",
            title=f"Installation guide {i}",
            summary="Mount the <b>device</b> safely.",
        )
        for i in range(23)
    ]
    secret = make_item(key="secret", title="Installation secrets", audience=Audience(min_tier=gold))
    get_search_backend().rebuild(iter_documents())
    return {"member": member.pk, "open": [i.pk for i in open_items], "secret": secret.pk}


@pytest.fixture
def world(db, world_ids):
    from accounts.models import User
    from kb.models import PortalItemPage

    pages = PortalItemPage.objects.in_bulk([*world_ids["open"], world_ids["secret"]])
    return {
        "member": User.objects.get(pk=world_ids["member"]),
        "open": [pages[pk].specific for pk in world_ids["open"]],
        "secret": pages[world_ids["secret"]].specific,
    }


def test_search_page_without_javascript(client, world):
    client.force_login(world["member"])
    response = client.get("/search/", {"q": "instalation"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "23 results" in html
    assert "Installation secrets" not in html
    assert "<mark>Installation</mark>" in html
    assert "&lt;b&gt;" not in html or "<b>device" not in html  # text is escaped, never raw HTML
    assert 'rel="next"' in html
    assert "Training guide" in html and "(23)" in html  # facet with count
    page2 = client.get("/search/", {"q": "instalation", "page": "2"}).content.decode()
    assert 'rel="prev"' in page2
    assert page2.count("<h3>") == 3


def test_typo_notice_and_search_instead(client, world):
    """Issue #14: when typo correction changed the query the page says so, with a link that
    searches for what was typed, as typed (``exact=1``)."""
    import re

    client.force_login(world["member"])
    html = client.get("/search/", {"q": "instalation"}).content.decode()
    notice = re.search(r'<p class="search-corrected" role="status">(.*?)</p>', html, re.S)
    assert notice, "no correction notice"
    assert "<strong>installation</strong>" in notice.group(1)
    assert 'href="?q=instalation&amp;exact=1" data-search-instead>instalation</a>' in notice.group(
        1
    )
    exact = client.get("/search/", {"q": "instalation", "exact": "1"}).content.decode()
    assert "search-corrected" not in exact
    from django.db import connection

    if connection.vendor == "sqlite":
        # As typed, nothing matches; PostgreSQL's English stemmer reduces "instalation" and
        # "installation" alike ("instal"), so there the exact search still finds the guide.
        assert "0 results" in exact
    # A correctly spelled query has no notice.
    plain = client.get("/search/", {"q": "installation"}).content.decode()
    assert "search-corrected" not in plain


def test_a_correction_only_names_words_of_visible_results():
    """The backend's candidates may come from items the asker may not see: the notice uses
    only words of the results shown (their titles and snippets)."""
    from django.utils.safestring import mark_safe

    from search.selectors import ResultItem, corrected_query

    shown = [
        ResultItem(
            page=None,
            url="/a/",
            title_html=mark_safe("<mark>Installation</mark> guide"),
            snippet_html=mark_safe("Mount the device&#x27;s base"),
            kind="training_guide",
            language="en",
        )
    ]
    corrections = {"instalation": ["installation"], "secretz": ["secrets"]}
    assert corrected_query("Instalation secretz", corrections, shown) == "Installation secretz"
    assert corrected_query("secretz", corrections, shown) == ""  # "secrets" is not shown
    assert corrected_query('"instalation" x', corrections, shown) == '"installation" x'


def test_facet_filter_and_sort(client, world):
    client.force_login(world["member"])
    html = client.get("/search/", {"q": "installation", "type": "product_sheet"}).content.decode()
    assert "0 results" in html  # the only product sheet is the gold one
    html = client.get("/search/", {"q": "installation", "sort": "date"}).content.decode()
    assert html.index("guide 22</a>") < html.index("guide 21</a>") < html.index("guide 3</a>")
    assert "guide 0</a>" not in html  # the oldest are on page 2


def test_suggest_endpoint(client, world):
    client.force_login(world["member"])
    data = client.get("/search/suggest/", {"q": "instal"}).json()
    titles = [s["title"] for s in data["suggestions"]]
    assert titles and all(t.startswith("Installation guide") for t in titles)
    assert all(s["url"] for s in data["suggestions"])
    assert client.get("/search/suggest/", {"q": "installation se"}).json() == {"suggestions": []}


def test_anonymous_and_suspended_see_nothing_private(client, world):
    assert "0 results" in client.get("/search/", {"q": "installation"}).content.decode()
    org = world["member"].membership.organization
    org.status = "suspended"
    org.save()
    client.force_login(world["member"])
    assert "0 results" in client.get("/search/", {"q": "installation"}).content.decode()


def test_exception_is_respected_after_sync(client, world, django_capture_on_commit_callbacks):
    org = world["member"].membership.organization
    with django_capture_on_commit_callbacks(execute=True):
        audience_set_exceptions(page=world["open"][0], organizations=[org])
    client.force_login(world["member"])
    assert "22 results" in client.get("/search/", {"q": "installation"}).content.decode()


class _BlackHole:
    """A TCP server that accepts connections and never answers (a hung engine)."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.clients = []
        self.stop = False

        def accept():
            while not self.stop:
                try:
                    conn, _ = self.sock.accept()
                    self.clients.append(conn)
                except OSError:
                    return

        self.thread = threading.Thread(target=accept, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc):
        self.stop = True
        self.sock.close()
        for conn in self.clients:
            conn.close()


@pytest.mark.parametrize("situation", ["down", "slow"])
def test_outage_falls_back_to_database_with_notice(client, world, situation):
    client.force_login(world["member"])
    if situation == "down":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url, hole = f"http://127.0.0.1:{port}", None
    else:
        hole = _BlackHole()
        url = hole.__enter__()
    try:
        engine = {
            "default": {
                "BACKEND": "search.backends.elasticsearch",
                "URLS": [url],
                "TIMEOUT": 0.5,
                "FALLBACK": "database",
            },
            "database": {"BACKEND": "search.backends.database"},
        }
        with override_settings(PORTAL_SEARCH_BACKENDS=engine):
            response = client.get("/search/", {"q": "installation"})
            suggest = client.get("/search/suggest/", {"q": "instal"})
    finally:
        if hole:
            hole.__exit__(None, None, None)
    assert response.status_code == 200
    html = response.content.decode()
    assert "reduced mode" in html
    assert "23 results" in html
    assert suggest.status_code == 200 and suggest.json()["suggestions"]


def test_result_urls_are_the_pages_own_urls(demo):
    """Result lines are built from columns; their URLs must be exactly Page.get_url()'s, in every
    content language (i18n prefixes) and whatever the active UI language."""
    from django.utils import translation

    from accounts.tests.factories import UserFactory
    from kb.models import PortalItemPage
    from search.backends.base import SearchHit, SearchResult
    from search.selectors import hydrate

    staff = UserFactory(is_staff=True)
    pages = list(PortalItemPage.objects.live())
    assert {p.locale.language_code for p in pages} >= {"en", "de", "cs"}
    result = SearchResult(total=len(pages), hits=[SearchHit(id=p.pk) for p in pages])
    for ui_language in ("en", "de", "cs"):
        with translation.override(ui_language):
            lines = hydrate(staff, result)
            expected = [p.get_url() for p in pages]
        assert [line.url for line in lines] == expected


def test_visible_ids_agrees_with_the_queryset_filter(demo):
    from accounts.models import User
    from kb.models import PortalItemPage
    from permissions.policies.pages import page_policy

    ids = list(PortalItemPage.objects.values_list("pk", flat=True))
    for user in User.objects.all():
        expected = set(PortalItemPage.objects.visible_to(user).values_list("pk", flat=True))
        assert page_policy.visible_ids(user, ids) == expected, user.email
        user.__dict__.pop("_portal_principal", None)
        assert page_policy.visible_ids(user, ids[:3]) == expected & set(ids[:3])


@pytest.fixture
def languages_world(portal):
    """One word in three languages: an English source with Czech and German translations
    (translations share the source's audience: docs/translations.md)."""
    from wagtail.models import Locale

    from kb.services import library_for_locale

    member = MembershipFactory().user
    source = make_item(key="zubr-sheet", title="Zubr datasheet", summary="zubr")
    copies = {}
    for code in ("cs", "de"):
        copy = source.copy_for_translation(Locale.objects.get(language_code=code))
        copy.title = f"Zubr ({code})"
        copy.save_revision().publish()
        copies[code] = copy.pk
    assert library_for_locale("cs").get_children().filter(pk=copies["cs"]).exists()
    get_search_backend().rebuild(iter_documents())
    return {"member": member, "en": source.pk, **copies}


def _found(client, **params) -> set[str]:
    import re

    html = client.get("/search/", {"q": "zubr", **params}).content.decode()
    html = re.sub(r"</?mark>", "", html)  # the search word is highlighted in titles
    return set(re.findall(r"Zubr (?:datasheet|\((?:cs|de)\))", html))


def test_search_covers_the_users_language_and_the_source_language(client, languages_world):
    member = languages_world["member"]
    client.force_login(member)
    # English UI: the source language only (English is both).
    assert _found(client) == {"Zubr datasheet"}
    member.preferred_language = "cs"
    member.save(update_fields=["preferred_language"])
    # Czech UI: Czech and the English source; German is one filter away.
    assert _found(client) == {"Zubr datasheet", "Zubr (cs)"}
    html = client.get("/search/", {"q": "zubr"}).content.decode()
    assert "language=all" in html
    assert _found(client, language="all") == {"Zubr datasheet", "Zubr (cs)", "Zubr (de)"}
    assert _found(client, language="de") == {"Zubr (de)"}
    # A UI language without content (French): the source language.
    member.preferred_language = "fr"
    member.save(update_fields=["preferred_language"])
    assert _found(client) == {"Zubr datasheet"}
