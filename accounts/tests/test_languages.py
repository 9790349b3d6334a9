"""The UI language of a request: the profile, then the cookie, then the browser; any case."""

from __future__ import annotations

import pytest
from django import forms
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation

from accounts.languages import normalize_language, ui_language_for
from accounts.models import User
from kb.selectors import content_language_choices

UI_LANGUAGES = ["en", "de", "fr", "es", "it", "pt-br", "cs", "pl", "ja", "zh-hans", "ar"]


def test_the_eleven_ui_languages_by_their_own_names():
    assert [code for code, _name in settings.LANGUAGES] == UI_LANGUAGES
    names = dict(settings.LANGUAGES)
    assert (names["de"], names["ja"], names["ar"]) == ("Deutsch", "日本語", "العربية")
    # Content locales stay three.
    assert [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES] == ["en", "de", "cs"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("pt-BR", "pt-br"),
        ("pt_BR", "pt-br"),
        ("zh-Hans", "zh-hans"),
        ("ZH_HANS", "zh-hans"),
        ("DE", "de"),
        ("de-AT", "de"),
        ("ar", "ar"),
        ("zh-cn", "zh-hans"),
        ("xx", None),
        ("", None),
        (None, None),
        ("de" * 20, None),
    ],
)
def test_language_codes_in_any_case(given, expected):
    assert normalize_language(given) == expected


def _request(rf, *, user=None, cookie=None, accept=""):
    request = rf.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    if cookie:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
    from django.contrib.auth.models import AnonymousUser

    request.user = user or AnonymousUser()
    return request


@pytest.mark.django_db
def test_profile_then_cookie_then_browser():
    rf = RequestFactory()
    assert ui_language_for(_request(rf)) == "en"
    assert ui_language_for(_request(rf, accept="fr-CH,fr;q=0.9,en;q=0.5")) == "fr"
    assert ui_language_for(_request(rf, accept="sw,ja;q=0.8")) == "ja"
    assert ui_language_for(_request(rf, cookie="pt-BR", accept="fr")) == "pt-br"
    user = User.objects.create_user(email="rania@example.test", preferred_language="ar")
    assert ui_language_for(_request(rf, user=user, cookie="de", accept="fr")) == "ar"


@pytest.mark.django_db
@pytest.mark.parametrize("code", UI_LANGUAGES)
def test_the_login_page_follows_the_browser(portal, code):
    html = Client().get("/login/", HTTP_ACCEPT_LANGUAGE=f"{code};q=1,en;q=0.1").content.decode()
    direction = "rtl" if code == "ar" else "ltr"
    assert f'<html lang="{code}" dir="{direction}">' in html
    # The switcher lists every language by its own name, marked with its language.
    for other, name in settings.LANGUAGES:
        assert f'<option value="{other}" lang="{other}"' in html
        assert name in html


@pytest.mark.django_db
def test_a_signed_in_users_language_wins_but_the_url_still_picks_the_content(portal):
    user = User.objects.create_user(email="anna@acme.example", preferred_language="fr")
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    assert '<main id="main" class="wrap" tabindex="-1" lang="en">' in html  # the English home
    german = client.get("/de/").content.decode()
    assert '<html lang="fr" dir="ltr">' in german
    assert 'lang="de">' in german  # the German home, framed in French


@pytest.mark.django_db
def test_views_run_in_the_ui_language(portal):
    """Errors made in the view (not only the template) speak the user's language: Django's own
    German catalogue says "This field is required." so."""
    user = User.objects.create_user(email="anna@acme.example", preferred_language="de")
    client = Client()
    client.force_login(user)
    response = client.post("/portal/account/profile/", {"preferred_language": "de"})
    assert response.status_code == 400
    # Django's own message (no literal here: makemessages would make it one of ours).
    message = forms.Field.default_error_messages["required"]
    with translation.override("de"):
        required = str(message)
    with translation.override("en"):
        assert required != str(message)
    assert required in response.content.decode()


def test_content_language_names_in_the_ui_language():
    with translation.override("de"):
        assert dict(content_language_choices())["en"] == "Englisch"
    with translation.override("en"):
        assert dict(content_language_choices())["cs"] == "Czech"
