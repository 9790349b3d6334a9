"""The partner password reset (/password-reset/), end to end over HTTP with the locmem mailbox."""

from __future__ import annotations

import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import PasswordResetRequest, User

pytestmark = pytest.mark.django_db

OLD = "pass-word-123"
NEW = "Neues-Passwort-2026!"


def _client(address: str = "10.0.0.1", **extra) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def _ask(client: Client, email: str):
    return client.post("/password-reset/", {"email": email})


def _link(message) -> str:
    found = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def _set_password(client: Client, link: str, password: str):
    """Follow the e-mailed link and choose ``password``; returns the last response."""
    page = client.get(link, follow=True)
    if b'name="new_password1"' not in page.content:
        return page
    return client.post(
        page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


@pytest.fixture
def anna(portal):
    return User.objects.create_user(
        email="anna@acme.example", password=OLD, preferred_language="de", first_name="Anna"
    )


def test_login_page_links_to_the_reset(portal):
    html = Client().get("/login/").content.decode()
    assert 'href="/password-reset/"' in html and "Forgot your password?" in html


def test_a_german_user_gets_a_german_email_and_the_link_works_once(anna):
    client = _client()
    form = client.get("/password-reset/")
    assert form.status_code == 200 and 'name="email"' in form.content.decode()
    response = _ask(client, "Anna@ACME.example")
    assert response.status_code == 302 and response["Location"] == "/password-reset/done/"
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@acme.example"]
    assert message.subject == "Passwort für das Partnerportal zurücksetzen"
    assert "Hallo Anna" in message.body and "60 Minuten" in message.body
    link = _link(message)
    done = _set_password(client, link, NEW)
    assert done.status_code == 200 and "Password changed" in done.content.decode()
    login = _client("10.0.0.2")
    ok = login.post("/login/", {"username": "anna@acme.example", "password": NEW})
    assert ok.status_code == 302
    refused = _client("10.0.0.3").post(
        "/login/", {"username": "anna@acme.example", "password": OLD}
    )
    assert refused.status_code == 200
    # The link worked once: the password it was made for has changed.
    again = _client("10.0.0.4").get(link, follow=True)
    assert "This link does not work any more" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()


def test_unknown_address_gets_the_same_answer_and_no_email(anna):
    known = _ask(_client("10.0.0.1"), "anna@acme.example")
    unknown = _ask(_client("10.0.0.2"), "nobody@acme.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["anna@acme.example"]]
    # An inactive account is not told apart either.
    User.objects.create_user(email="gone@acme.example", password=OLD, is_active=False)
    inactive = _ask(_client("10.0.0.3"), "gone@acme.example")
    assert (inactive.status_code, inactive["Location"]) == (302, "/password-reset/done/")
    assert len(mail.outbox) == 1


def test_rate_limit_per_email(anna):
    limit = settings.PORTAL_PASSWORD_RESET_EMAIL_LIMIT
    for i in range(limit):
        assert _ask(_client(f"10.0.1.{i + 1}"), "anna@acme.example").status_code == 302
    refused = _ask(_client("10.0.2.1"), "ANNA@acme.example")
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == limit
    # The same for an unknown address: the limit tells nothing about accounts.
    for i in range(limit):
        assert _ask(_client(f"10.0.3.{i + 1}"), "nobody@acme.example").status_code == 302
    assert _ask(_client("10.0.4.1"), "nobody@acme.example").status_code == 429
    # The addresses are not stored, only a keyed hash.
    stored = PasswordResetRequest.objects.values_list("email_digest", flat=True)
    assert all("@" not in digest for digest in stored)


def test_rate_limit_per_client_address(anna):
    limit = settings.PORTAL_PASSWORD_RESET_ADDRESS_LIMIT
    client = _client("10.5.5.5")
    for i in range(limit):
        assert _ask(client, f"someone{i}@acme.example").status_code == 302
    refused = _ask(client, "anna@acme.example")
    assert refused.status_code == 429
    assert mail.outbox == []
    assert _ask(_client("10.5.5.6"), "anna@acme.example").status_code == 302
    assert len(mail.outbox) == 1


def test_reset_page_works_with_the_cache_down(anna, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/15",
        }
    }
    assert _ask(_client(), "anna@acme.example").status_code == 302
    assert len(mail.outbox) == 1


def test_the_link_expires(anna, settings):
    settings.PASSWORD_RESET_TIMEOUT = 1
    _ask(_client(), "anna@acme.example")
    link = _link(mail.outbox[0])
    time.sleep(2.1)
    page = _set_password(_client(), link, NEW)
    assert "This link does not work any more" in page.content.decode()
    assert User.objects.get(pk=anna.pk).check_password(OLD)


def test_a_tampered_link_does_not_work(anna):
    _ask(_client(), "anna@acme.example")
    link = _link(mail.outbox[0])
    page = _set_password(_client(), link[:-3] + "xx/", NEW)
    assert "This link does not work any more" in page.content.decode()


def test_a_reset_clears_the_account_lockout(anna):
    attacker = _client("10.6.6.6")
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        attacker.post("/login/", {"username": "anna@acme.example", "password": "wrong"})
    home = _client("10.0.0.1")
    assert (
        home.post("/login/", {"username": "anna@acme.example", "password": OLD}).status_code == 429
    )
    _ask(home, "anna@acme.example")
    _set_password(home, _link(mail.outbox[0]), NEW)
    assert not AccessAttempt.objects.filter(username="anna@acme.example").exists()
    ok = home.post("/login/", {"username": "anna@acme.example", "password": NEW})
    assert ok.status_code == 302


def test_reset_pages_speak_the_visitors_language(anna):
    html = _client(HTTP_ACCEPT_LANGUAGE="cs").get("/password-reset/").content.decode()
    assert "Obnovení hesla" in html


def test_staff_reset_through_wagtail_also_clears_the_lockout(portal):
    User.objects.create_user(email="eva@vendor.example", password=OLD, is_staff=True)
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _client("10.6.6.6").post(
            "/admin/login/", {"username": "eva@vendor.example", "password": "x"}
        )
    client = _client("10.0.0.1")
    response = client.post("/admin/password_reset/", {"email": "eva@vendor.example"})
    assert response.status_code == 302
    link = re.search(r"https?://[^/\s]+(/admin/password_reset/confirm/\S+/)", mail.outbox[0].body)
    page = client.get(link.group(1), follow=True)
    client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True
    )
    assert not AccessAttempt.objects.filter(username="eva@vendor.example").exists()
    ok = client.post("/admin/login/", {"username": "eva@vendor.example", "password": NEW})
    assert ok.status_code == 302
