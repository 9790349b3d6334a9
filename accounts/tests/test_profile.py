"""The partner's profile page and the header's language switcher (both work without JS)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.models import DigestFrequency, User
from accounts.services import user_preferences_update

pytestmark = pytest.mark.django_db

PROFILE = "/portal/account/profile/"
SWITCH = "/portal/account/language/"


@pytest.fixture
def anna(portal):
    return User.objects.create_user(email="anna@acme.example", password="pass-word-123")


@pytest.fixture
def client(anna):
    client = Client()
    client.force_login(anna)
    return client


def test_profile_needs_a_login(portal):
    response = Client().get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_profile_form_has_a_label_for_every_control_and_is_linked_from_the_header(client):
    html = client.get(PROFILE).content.decode()
    assert f'href="{PROFILE}"' in client.get("/").content.decode()
    ids = re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', html)
    assert {"id_preferred_language", "id_time_zone", "id_notify_new_versions"} <= set(ids)
    for control in ids:
        assert f'for="{control}"' in html, control
    assert "<legend>" in html  # the digest radios are a labelled group
    assert 'aria-describedby="id_time_zone-help"' in html and 'id="id_time_zone-help"' in html


def test_saving_the_profile(client, anna):
    response = client.post(
        PROFILE,
        {
            "preferred_language": "pt-BR",  # any case
            "time_zone": "America/Sao_Paulo",
            "notify_new_versions": "on",
            "digest_frequency": "weekly",
        },
    )
    assert response.status_code == 302 and response["Location"] == PROFILE
    anna.refresh_from_db()
    assert (
        anna.preferred_language,
        anna.time_zone,
        anna.notify_new_versions,
        anna.digest_frequency,
    ) == ("pt-br", "America/Sao_Paulo", True, DigestFrequency.WEEKLY)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt-br"
    page = client.get(PROFILE).content.decode()
    with translation.override("pt-br"):
        saved = translation.gettext("Your profile is saved.")
    assert saved in page  # the success message, in the newly chosen language
    assert '<html lang="pt-br"' in page


def test_an_invalid_profile_is_refused_whole(client, anna):
    response = client.post(
        PROFILE,
        {"preferred_language": "xx", "time_zone": "Mars/Olympus", "digest_frequency": "hourly"},
    )
    assert response.status_code == 400
    assert response.content.decode().count('class="error"') >= 3
    anna.refresh_from_db()
    assert (anna.preferred_language, anna.time_zone, anna.digest_frequency) == (
        "en",
        "UTC",
        "none",
    )


def test_the_service_refuses_unknown_values(anna):
    with pytest.raises(ValueError, match="time zone"):
        user_preferences_update(
            user=anna,
            preferred_language="de",
            time_zone="Nowhere/Nothing",
            notify_new_versions=False,
            digest_frequency="none",
        )


def test_the_switcher_saves_a_signed_in_users_language(client, anna):
    response = client.post(SWITCH, {"language": "zh-Hans", "next": "/search/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/search/?q=x"
    anna.refresh_from_db()
    assert anna.preferred_language == "zh-hans"
    assert '<html lang="zh-hans"' in client.get("/").content.decode()


def test_the_switcher_sets_the_cookie_for_visitors(portal):
    visitor = Client()
    response = visitor.post(SWITCH, {"language": "ar", "next": "/login/"})
    assert response["Location"] == "/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    html = visitor.get("/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_the_switcher_goes_only_to_local_addresses_and_ignores_unknown_languages(client, anna):
    away = client.post(SWITCH, {"language": "de", "next": "https://evil.example/"})
    assert away["Location"] == "/"
    unknown = client.post(SWITCH, {"language": "tlh", "next": "/login/"})
    assert unknown["Location"] == "/login/"
    anna.refresh_from_db()
    assert anna.preferred_language == "de"
    assert client.get(SWITCH).status_code == 405  # POST only
