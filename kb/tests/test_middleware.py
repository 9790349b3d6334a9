"""Response headers of the portal (issue #9, part 6): ``Cache-Control: private`` on every
response that depends on the user, a Content-Security-Policy without inline script or style on
portal pages (and no inline script/style in their HTML), the admin's own policy, and a secure
language cookie in production.

/media/ asks the policies file by file: staff get images and the documents the document policy
allows; co-brand renders and brand-kit logos never (they have their own checked views: renders
for their organisation only, logos for the organisation and for staff who edit organisations).
One module, so the demo world is seeded once for both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from files.models import PortalDocument, PortalImage, PortalRendition
from kb.models import LibraryIndexPage, PortalItemPage
from kb.selectors import download_url
from permissions.models import PartnerOrganization

pytestmark = pytest.mark.django_db

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"<style[\s>]", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, ...
    re.compile(r"javascript:", re.I),
]


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _check_private(response, url: str) -> None:
    cache = response.get("Cache-Control", "")
    assert "private" in cache, (url, response.status_code, cache)
    assert "public" not in cache, (url, cache)
    assert "s-maxage" not in cache, (url, cache)
    # Whose page, in which language: a browser's stored copy is never another login's.
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    assert {"cookie", "accept-language"} <= vary, (url, response.get("Vary"))


def _check_portal_html(response, url: str) -> None:
    _check_private(response, url)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"], url
    assert policy["style-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"], url
    html = response.content.decode()
    for pattern in INLINE:
        match = pattern.search(html)
        assert match is None, (url, match and html[match.start() - 80 : match.end() + 80])


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _portal_urls(user) -> list[str]:
    items = list(PortalItemPage.objects.live().visible_to(user))
    urls = ["/", "/?stay=1", "/de/?stay=1", "/search/?q=x1", "/search/?q=router&sort=date"]
    for library in LibraryIndexPage.objects.live().visible_to(user):
        urls += [library.url, f"{library.url}?language=all&page=2", f"{library.url}?type=x"]
    urls += [item.url for item in items]
    urls += ["/portal/items/999999/files/1/x.pdf", "/no-such-page/", "/search/?q=a%00"]
    return urls


def test_portal_pages_as_a_partner_are_private_and_have_a_strict_policy(demo):
    client = Client()
    anna = User.objects.get(email="anna@acme.example")
    client.force_login(anna)
    seen = 0
    for url in _portal_urls(anna):
        response = client.get(url, follow=True)
        assert response.status_code in (200, 400, 404), url
        _check_portal_html(response, url)
        seen += 1
    assert seen > 20
    # Suggest (JSON), downloads, images, co-brand: private, and the policy header too.
    suggest = client.get("/search/suggest/?q=x1")
    _check_private(suggest, "suggest")
    visible = PortalItemPage.objects.live().visible_to(anna)
    files = 0
    for item in visible:
        for attachment in item.specific.attachments.select_related("document")[:1]:
            doc = attachment.document
            url = download_url(item, doc)
            response = client.get(url)
            assert response.status_code == 200
            _body(response)
            _check_private(response, url)
            files += 1
        if item.cover_image_id:
            url = reverse("kb:item_image", args=[item.pk, "cover", "thumb"])
            response = client.get(url)
            assert response.status_code == 200
            _body(response)
            _check_private(response, url)
            files += 1
    assert files > 5


def test_an_item_image_named_by_its_id_is_kept_by_the_readers_browser_only(demo):
    """The pages name each cover with ``?v=<image id>``: that URL may be kept by the reader's
    browser (private, a day); without it, or with another image's id, nothing is kept."""
    client = Client()
    anna = User.objects.get(email="anna@acme.example")
    client.force_login(anna)
    item = next(i for i in PortalItemPage.objects.live().visible_to(anna) if i.cover_image_id)
    url = reverse("kb:item_image", args=[item.pk, "cover", "thumb"])
    named = client.get(f"{url}?v={item.cover_image_id}")
    assert named.status_code == 200
    _body(named)
    assert named["Cache-Control"] == "private, max-age=86400"
    for other in (url, f"{url}?v={item.cover_image_id + 1000}"):
        response = client.get(other)
        _body(response)
        assert response["Cache-Control"] == "private, no-store", other
    page = client.get(item.url, follow=True).content.decode()
    assert f"?v={item.cover_image_id}" in page
    # Someone who may not see the item gets no image, named or not.
    claire = User.objects.get(email="claire@lumiere.example")
    if not PortalItemPage.objects.visible_to(claire).filter(pk=item.pk).exists():
        client.force_login(claire)
        assert client.get(f"{url}?v={item.cover_image_id}").status_code == 404


def test_login_page_and_error_pages_are_private_for_anonymous_visitors(demo):
    client = Client()
    urls = (
        "/login/",
        "/login/?next=/library/",
        "/no-such-page/",
        "/search/?q=a%00",
        "/password-reset/",
        "/password-reset/done/",
        "/password-reset/complete/",
        "/password-reset/MQ/bad-token/",
    )
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 400, 404)
        _check_portal_html(response, url)
    assert b"csrfmiddlewaretoken" in client.get("/login/").content


def test_the_lockout_page_has_no_inline_script_or_style(demo, settings):
    """The locked login (429) is a portal page too: same strict policy, no inline code."""
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(
            "/login/", {"username": "lukas@alpen-it.example", "password": f"wrong-{attempt}"}
        )
    assert response.status_code == 429
    _check_portal_html(response, "/login/ (locked)")


def test_the_search_page_loads_its_script_from_a_static_file(demo):
    client = Client()
    client.force_login(User.objects.get(email="anna@acme.example"))
    html = client.get("/search/?q=x1").content.decode()
    assert re.search(r'<script src="/static/js/search-suggest\.js" defer></script>', html)
    from django.contrib.staticfiles import finders

    assert finders.find("js/search-suggest.js")


def test_the_admin_has_its_own_looser_policy(demo):
    client = Client()
    client.force_login(User.objects.get(email="admin@vendor.example"))
    response = client.get("/admin/")
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]  # Wagtail's inline scripts
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    # No third-party requests from the admin (Gravatar, release check).
    assert b"gravatar.com" not in response.content
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]
    _check_private(response, "/admin/")


def test_language_cookie_is_secure_in_production():
    code = (
        "import json; from django.conf import settings; print(json.dumps({k: getattr(settings, k)"
        " for k in ('LANGUAGE_COOKIE_SECURE', 'LANGUAGE_COOKIE_HTTPONLY',"
        " 'LANGUAGE_COOKIE_SAMESITE', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE')}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal_site.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
        "PORTAL_BASE_URL": "https://portal.example.com",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.example.com",
        "DEFAULT_FROM_EMAIL": "portal@example.com",
    }
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == {
        "LANGUAGE_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_HTTPONLY": True,
        "LANGUAGE_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }


def test_the_language_cookie_carries_the_production_flags_over_http(demo, settings):
    settings.LANGUAGE_COOKIE_SECURE = True
    settings.LANGUAGE_COOKIE_HTTPONLY = True
    settings.LANGUAGE_COOKIE_SAMESITE = "Lax"
    response = Client().post("/i18n/setlang/", {"language": "de", "next": "/login/"})
    assert response.status_code == 302
    morsel = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert morsel.value == "de"
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax"


# ---------------------------------------------------------------------------------------------
pytestmark = pytest.mark.django_db


def _client(email: str | None) -> Client:
    client = Client()
    if email:
        client.force_login(User.objects.get(email=email))
    return client


@pytest.fixture
def renders(demo):
    from cobranding.models import CobrandRender
    from cobranding.services import cobrand_request
    from kb.models import MarketingAssetPage

    acme = PartnerOrganization.objects.get(key="acme")
    item = next(
        p for p in MarketingAssetPage.objects.live() if p.co_brandable and p.master_image_id
    )
    cobrand_request(item, acme)
    return list(CobrandRender.objects.select_related("organization"))


@pytest.mark.parametrize("email", ["eva@vendor.example", "admin@vendor.example"])
def test_staff_never_get_renders_or_logos_through_media(renders, email):
    staff = _client(email)
    assert renders
    for render in renders:
        assert staff.get(f"/media/{render.file.name}").status_code == 404
        url = f"/portal/items/{render.item_id}/cobrand/{render.pk}/{render.filename}"
        assert staff.get(url).status_code == 404  # the co-brand policy: staff never
    logos = PartnerOrganization.objects.exclude(logo="")
    assert logos.exists()
    for org in logos:
        assert staff.get(f"/media/{org.logo.name}").status_code == 404


def test_staff_still_get_images_renditions_and_documents_through_media(demo):
    staff = _client("eva@vendor.example")
    image = PortalImage.objects.first()
    # Wagtail caches renditions in the (process-wide) cache; a rolled-back module may have left
    # one there for the same image id (SQLite reuses ids), whose row no longer exists.
    PortalRendition.cache_backend.clear()
    rendition = image.get_rendition("max-165x165")
    document = PortalDocument.objects.first()
    for name in (image.file.name, rendition.file.name, document.file.name):
        response = staff.get(f"/media/{name}")
        assert response.status_code == 200, name
        with default_open(name) as handle:
            assert _body(response) == handle.read()
    assert PortalRendition.objects.filter(file=rendition.file.name).exists()
    # A stored name no row points at, and a path outside the media folder: 404.
    assert staff.get("/media/brandkits/unknown.png").status_code == 404
    assert staff.get("/media/../pyproject.toml").status_code == 404


def default_open(name: str):
    from django.core.files.storage import default_storage

    return default_storage.open(name, "rb")


def test_partners_and_anonymous_never_get_media(renders):
    image = PortalImage.objects.first()
    for email in (None, "anna@acme.example"):
        client = _client(email)
        for name in [image.file.name, *(r.file.name for r in renders)]:
            assert client.get(f"/media/{name}").status_code == 404


def test_a_render_only_for_its_own_organisation(renders):
    anna = _client("anna@acme.example")
    for render in renders:
        url = f"/portal/items/{render.item_id}/cobrand/{render.pk}/{render.filename}"
        expected = 200 if render.organization.key == "acme" else 404
        assert anna.get(url).status_code == expected


def test_logo_view_follows_the_brand_kit_policy(demo):
    acme = PartnerOrganization.objects.get(key="acme")
    other = PartnerOrganization.objects.exclude(pk=acme.pk).exclude(logo="").first()
    assert acme.logo and other
    url = f"/portal/organizations/{acme.pk}/logo/"
    with acme.logo.open("rb") as handle:
        logo_bytes = handle.read()
    anna = _client("anna@acme.example")
    response = anna.get(url)
    assert response.status_code == 200
    assert _body(response) == logo_bytes
    assert "private" in response["Cache-Control"]
    assert anna.get(f"/portal/organizations/{other.pk}/logo/").status_code == 404
    assert _client(None).get(url).status_code == 404
    # Staff who edit organisations (superusers, and whoever holds the change permission).
    assert _client("admin@vendor.example").get(url).status_code == 200
    marketer = User.objects.get(email="jiri@vendor.example")
    expected = 200 if marketer.has_perm("permissions.change_partnerorganization") else 404
    assert _client("jiri@vendor.example").get(url).status_code == expected


def test_admin_organisation_form_links_the_logo_to_the_checked_view(demo):
    acme = PartnerOrganization.objects.get(key="acme")
    admin = _client("admin@vendor.example")
    response = admin.get(f"/admin/snippets/permissions/partnerorganization/edit/{acme.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/portal/organizations/{acme.pk}/logo/" in html
    assert f"/media/{acme.logo.name}" not in html
