"""Every exit over HTTP agrees with the policy, for every demo user and anonymous visitors.

Listing (all pages of every library, all languages), item detail, file downloads, item images,
Wagtail's own document URL and raw media: what the user may see answers 200 (or appears in the
listing), everything else answers 404 (or does not appear), so existence never leaks.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from demo.builder import USERS
from kb.models import LibraryIndexPage, PortalItemPage
from kb.selectors import download_url
from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy

pytestmark = pytest.mark.django_db

EMAILS = [u.email for u in USERS]
PASSWORDS = {u.email: u.password for u in USERS}


def _client_for(email: str | None) -> tuple[Client, object]:
    client = Client()
    if email is None:
        return client, AnonymousUser()
    # The real login form: e-mail in `username`, CSRF enforced.
    csrf_client = Client(enforce_csrf_checks=True)
    page = csrf_client.get("/login/")
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert found, "no CSRF token on the login page"
    token = found.group(1)
    response = csrf_client.post(
        "/login/",
        {"username": email, "password": PASSWORDS[email], "csrfmiddlewaretoken": token.decode()},
    )
    assert response.status_code == 302, f"login failed for {email}"
    return csrf_client, get_user_model().objects.get(email=email)


def _files(item):
    specific = item.specific
    docs = [a.document for a in specific.attachments.select_related("document")]
    master = getattr(specific, "master_document", None)
    return docs + ([master] if master else [])


@pytest.mark.parametrize("email", [None, *EMAILS])
def test_listing_detail_download_agree_with_policy(demo, email):
    client, user = _client_for(email)
    items = list(PortalItemPage.objects.all())
    expected = {i.pk for i in items if page_policy.can_view(user, i)}
    assert expected == set(PortalItemPage.objects.visible_to(user).values_list("pk", flat=True))
    allowed = set(expected)  # files and images: exactly what the policy allows
    # Staff may see drafts (files too, for previews); Wagtail serves only live pages.
    expected = {pk for pk in expected if PortalItemPage.objects.get(pk=pk).live}

    # Listing: walk every page of every top library section, all languages.
    listed: set[int] = set()
    url_to_pk = {i.url: i.pk for i in items}
    for library in LibraryIndexPage.objects.filter(depth=3):
        if not page_policy.can_view(user, library):
            assert client.get(library.url).status_code in (302, 404)
            continue
        # Each language in turn: every item of it (the default, every language, lists one item
        # per translation group: a subset, checked below).
        for language in [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]:
            page_no = 1
            while True:
                response = client.get(library.url, {"language": language, "page": page_no})
                assert response.status_code == 200
                html = response.content.decode()
                for href in re.findall(r'<h3><a href="([^"]+)"', html):
                    listed.add(url_to_pk[href])
                if 'rel="next"' not in html:
                    break
                page_no += 1
        html = client.get(library.url).content.decode()
        assert {url_to_pk[href] for href in re.findall(r'<h3><a href="([^"]+)"', html)} <= expected
    reachable_from_libraries = {
        i.pk
        for i in items
        if i.pk in expected
        and all(
            page_policy.can_view(user, lib)
            for lib in LibraryIndexPage.objects.filter(depth=3)
            if i.path.startswith(lib.path)
        )
    }
    assert listed == reachable_from_libraries

    for item in items:
        visible = item.pk in expected
        detail = client.get(item.url)
        assert detail.status_code == (200 if visible else 404), (email, item.title)
        if item.cover_image_id:
            image = client.get(reverse("kb:item_image", args=[item.pk, "cover", "thumb"]))
            assert image.status_code == (200 if item.pk in allowed else 404)
        for document in _files(item):
            url = download_url(item, document)
            response = client.get(url)
            ok = item.pk in allowed
            assert response.status_code == (200 if ok else 404), (email, item.title, url)
            if ok:
                assert b"".join(response.streaming_content) == document.file.open("rb").read()
            # Wagtail's own document URL asks the same policy.
            direct = client.get(document.url)
            direct_ok = document_policy.can_serve_directly(user, document)
            assert direct.status_code == (200 if direct_ok else 404)


@pytest.mark.parametrize("email", ["anna@acme.example", "ravi@kestrel.example", None])
def test_download_of_a_visible_file_through_a_hidden_item_is_404(demo, email):
    """The file URL names the item: a file cannot be fetched through an item one may not see,
    nor a hidden item's file through a visible item."""
    client, user = _client_for(email)
    items = list(PortalItemPage.objects.all())
    visible = [i for i in items if page_policy.can_view(user, i) and _files(i)]
    hidden = [i for i in items if not page_policy.can_view(user, i) and _files(i)]
    assert hidden
    for item in hidden[:5]:
        for document in _files(item):
            for via in visible[:3]:
                url = download_url(via, document)
                assert client.get(url).status_code == 404


def test_raw_media_only_for_staff(demo):
    item = PortalItemPage.objects.filter(attachments__isnull=False).first()
    name = item.attachments.first().document.file.name
    partner, _ = _client_for("anna@acme.example")
    staff, _ = _client_for("eva@vendor.example")
    assert Client().get(f"/media/{name}").status_code == 404
    assert partner.get(f"/media/{name}").status_code == 404
    assert staff.get(f"/media/{name}").status_code == 200
    assert staff.get("/media/../pyproject.toml").status_code == 404


def test_anonymous_home_is_the_landing_and_hidden_item_is_404(demo):
    client = Client()
    response = client.get("/")
    # Issue #14: the public landing (branding/kb.landing), with the way to log in.
    assert response.status_code == 200 and b'data-page="landing"' in response.content
    assert b'href="/login/' in response.content
    hidden = next(i for i in PortalItemPage.objects.all() if not page_policy.can_view(None, i))
    response = client.get(hidden.url)
    assert response.status_code == 404
    assert b"Log in to continue" in response.content


def test_suspension_locks_out_at_once(demo):
    from permissions.models import PartnerOrganization
    from permissions.services import organization_set_status

    client, user = _client_for("anna@acme.example")
    item = PortalItemPage.objects.visible_to(user).first()
    assert client.get(item.url).status_code == 200
    organization_set_status(
        organization=PartnerOrganization.objects.get(memberships__user=user), status="suspended"
    )
    assert client.get(item.url).status_code == 404
    home = client.get("/", follow=True)
    assert 'data-state="suspended"' in home.content.decode()


@pytest.mark.parametrize(
    "email", ["anna@acme.example", "petr@brightline.example", "lukas@alpen-it.example"]
)
def test_library_page_query_count_is_bounded(demo, email):
    """≤ 20 queries per library page, the same on every page (plain, granted, excepted users)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _user = _client_for(email)
    library = LibraryIndexPage.objects.get(depth=3, locale__language_code="en")
    client.get(library.url, {"language": "all"})  # warm per-process caches
    counts = []
    for page_no in (1, 2):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(library.url, {"language": "all", "page": page_no})
        assert response.status_code == 200
        # Transaction control is not a query of the page: ATOMIC_REQUESTS (PostgreSQL, as in
        # production) wraps the request in a savepoint inside the test's transaction.
        counts.append(
            sum(
                not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
                for q in ctx.captured_queries
            )
        )
    assert counts[0] == counts[1]
    assert counts[0] <= 20, counts
