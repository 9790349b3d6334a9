"""The brand setting, the public landing, the designed error pages, the favicon and the footer
(issue #14, deliverables 4 and 5)."""

from __future__ import annotations

import io

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import translation
from PIL import Image

from accounts.tests.factories import UserFactory
from branding.colors import contrast_ratio, validate_hex_color, validate_white_text_contrast
from branding.models import DEFAULT_ACCENT, DEFAULT_PRIMARY, BrandSettings, validate_link
from branding.services import brand_update
from kb.services import Audience, library_for_locale, site_structure_ensure
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

# --- colours and links ---------------------------------------------------------------------------


def test_contrast_ratio_is_wcags():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    # WCAG's own example pair: #767676 on white is just AA (4.54:1).
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("bad", ["red", "#fff", "#12345g", "#0a58ca;}", "", "0a58ca", None])
def test_only_six_digit_hex_colours(bad):
    with pytest.raises(ValidationError):
        validate_hex_color(bad)


@pytest.mark.parametrize("color", [DEFAULT_PRIMARY, DEFAULT_ACCENT, "#767676", "#12355B"])
def test_colours_white_text_can_be_read_on(color):
    validate_white_text_contrast(color)


@pytest.mark.parametrize("color", ["#ffff00", "#777777", "#ffffff", "#4da3ff"])
def test_colours_failing_aa_for_white_text_are_refused(color):
    with pytest.raises(ValidationError) as caught:
        validate_white_text_contrast(color)
    assert caught.value.code == "low_contrast"


@pytest.mark.parametrize("good", ["/legal/", "https://www.altivo.example/privacy", "http://x.y/"])
def test_footer_links_take_site_paths_and_web_addresses(good):
    validate_link(good)


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "//evil.example/", "legal", "https://"])
def test_footer_links_refuse_anything_else(bad):
    with pytest.raises(ValidationError):
        validate_link(bad)


@pytest.mark.django_db
def test_the_setting_refuses_a_pale_header_colour():
    with pytest.raises(ValidationError) as caught:
        brand_update(primary_color="#f0f0f0")
    assert "primary_color" in caught.value.message_dict
    assert BrandSettings.load().primary_color == DEFAULT_PRIMARY


@pytest.mark.django_db
def test_the_brand_stylesheet_carries_only_validated_colours():
    brand_update(primary_color="#12355b", accent_color="#0b5394")
    css = Client().get("/brand/style.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert css.content.decode() == ":root { --brand-primary: #12355b; --accent: #0b5394; }\n"
    # A value that bypassed validation (written to the table directly) never reaches the CSS
    # (seven characters: the column's width, which PostgreSQL enforces and SQLite does not).
    BrandSettings.objects.update(primary_color="red;}*{")
    css = Client().get("/brand/style.css").content.decode()
    assert css == f":root {{ --brand-primary: {DEFAULT_PRIMARY}; --accent: #0b5394; }}\n"


# --- favicon, header, footer ---------------------------------------------------------------------


@pytest.mark.django_db
def test_favicon_ico_answers_with_the_static_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.ico"
    assert Client().head("/favicon.ico").status_code == 302
    for name in ("favicon.ico", "favicon.svg", "apple-touch-icon.png"):
        assert finders.find(name), name
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.django_db
def test_footer_links_and_name_come_from_the_brand():
    plain = Client().get("/login/").content.decode()
    assert 'data-footer="legal"' not in plain and "Partner Portal" in plain
    brand_update(
        portal_name="Altivo Partner Portal",
        legal_url="https://www.altivo.example/legal",
        privacy_url="/privacy/",
        support_url="https://support.altivo.example/",
        support_email="partners@altivo.example",
        footer_text="© Altivo Networks",
    )
    html = Client().get("/login/").content.decode()
    assert '<footer class="site-footer' in html
    assert 'href="https://www.altivo.example/legal" data-footer="legal"' in html
    assert 'href="/privacy/" data-footer="privacy"' in html
    assert 'href="https://support.altivo.example/" data-footer="support"' in html
    assert 'href="mailto:partners@altivo.example"' in html
    assert "© Altivo Networks" in html
    assert '<span class="brand-name">Altivo Partner Portal</span>' in html
    assert 'href="/static/favicon.svg"' in html and 'href="/brand/style.css?v=' in html


def _png(width: int = 600, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#12355b").save(out, "PNG")
    return out.getvalue()


@pytest.mark.django_db
def test_the_logo_is_shown_to_everyone():
    from django.core.files.images import ImageFile

    from files.models import PortalImage

    assert Client().get("/brand/logo/").status_code == 404
    logo = PortalImage(title="Altivo logo", file=ImageFile(io.BytesIO(_png()), name="altivo.png"))
    logo.save()
    brand_update(logo=logo)
    html = Client().get("/login/").content.decode()
    assert '<img class="brand-logo" src="/brand/logo/?v=' in html
    response = Client().get("/brand/logo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert served.size[0] <= 480 and served.size[1] <= 96


# --- the public landing --------------------------------------------------------------------------


@pytest.fixture
def library():
    homes = site_structure_ensure()
    library = library_for_locale("en")
    library.audience_public = True
    library.save()
    public = make_item(
        key="programme", title="Partner programme at a glance", audience=Audience(public=True)
    )
    hidden = make_item(key="secret", title="Confidential price list")
    return {"homes": homes, "public": public, "hidden": hidden}


@pytest.mark.django_db
def test_anonymous_visitors_get_the_landing_with_public_items_only(library):
    response = Client().get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-page="landing"' in html
    assert "Partner programme at a glance" in html
    assert "Confidential price list" not in html
    assert 'href="/login/"' in html and 'href="/password-reset/"' in html
    assert 'action="/login/"' in html  # the log-in form posts to the login view
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
def test_the_landing_names_no_hidden_item_when_nothing_is_public():
    site_structure_ensure()
    make_item(key="secret", title="Confidential price list")
    html = Client().get("/").content.decode()
    assert 'data-page="landing"' in html and "Confidential price list" not in html


@pytest.mark.django_db
def test_the_landing_speaks_the_browsers_language(library):
    german = Client(headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"}).get("/")
    assert german.status_code == 200
    assert '<html lang="de"' in german.content.decode()
    czech = Client(headers={"accept-language": "cs"}).get("/de/")
    assert czech.status_code == 200
    assert '<html lang="cs"' in czech.content.decode()
    assert 'data-page="landing"' in czech.content.decode()


@pytest.mark.django_db
def test_the_landing_shows_the_brands_text(library):
    brand_update(landing_intro="<p>Everything Altivo partners need.</p>")
    html = Client().get("/").content.decode()
    assert "Everything Altivo partners need." in html


@pytest.mark.django_db
def test_signed_in_users_still_get_their_home(library):
    user = UserFactory()
    MembershipFactory(user=user)
    client = Client()
    client.force_login(user)
    response = client.get("/", follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-page="landing"' not in html
    assert "Confidential price list" in html or "data-home" in html or "Welcome" in html


# --- designed error pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_designed_404_in_the_visitors_language(settings):
    site_structure_ensure()
    assert settings.DEBUG is False
    response = Client(headers={"accept-language": "de"}).get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-status="404"' in html and '<html lang="de"' in html
    assert 'role="search"' in html and 'id="error-q"' in html
    assert '<a class="brand" href="/">' in html and 'href="/">' in html


@pytest.mark.django_db
def test_designed_404_for_an_item_the_visitor_may_not_see(library):
    response = Client().get(library["hidden"].url)
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-status="404"' in html and "Confidential price list" not in html


def test_designed_500_needs_no_database():
    """No django_db mark: any query would fail the test (the database may be what broke)."""
    from django.views.defaults import server_error

    with translation.override("de"):
        response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="de"' in html and 'data-status="500"' in html
    assert 'href="/static/css/portal.css"' in html
    assert 'role="search"' in html and '<a class="brand" href="/">' in html


def test_make_run_serves_without_debug_and_make_dev_with_it():
    import importlib
    from pathlib import Path

    run = importlib.import_module("portal_site.settings.run")
    dev = importlib.import_module("portal_site.settings.dev")
    assert run.DEBUG is False and dev.DEBUG is True
    assert {"127.0.0.1", "localhost"} <= set(run.ALLOWED_HOSTS)
    assert run.SECRET_KEY and "production" in run.SECRET_KEY  # a demo-only key, named so
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "DJANGO_SETTINGS_MODULE=portal_site.settings.run" in makefile
    assert "runserver --noreload --insecure" in makefile
    assert "\ndev: seed\n" in makefile
