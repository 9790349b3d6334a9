"""The e-mail-login user model, its admin forms, the login page and per-user time zones."""

import re

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_login_form_takes_the_email_case_insensitively_with_csrf(portal):
    User.objects.create_user(email="anna@acme.example", password="pass-word-123")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    assert page.status_code == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    assert b'name="username"' in page.content and b'name="password"' in page.content
    refused = client.post("/login/", {"username": "anna@acme.example", "password": "x"})
    assert refused.status_code == 403  # no CSRF token
    ok = client.post(
        "/login/",
        {
            "username": "Anna@Acme.example",
            "password": "pass-word-123",
            "csrfmiddlewaretoken": token.decode(),
        },
    )
    assert ok.status_code == 302


def test_wrong_password_says_so(portal):
    User.objects.create_user(email="anna@acme.example", password="pass-word-123")
    response = Client().post("/login/", {"username": "anna@acme.example", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_admin_user_forms_edit_language_and_time_zone(portal):
    admin = User.objects.create_superuser(email="admin@vendor.example", password="x")
    client = Client()
    client.force_login(admin)
    form = client.get("/admin/users/new/").content.decode()
    assert 'name="preferred_language"' in form and 'name="time_zone"' in form
    response = client.post(
        "/admin/users/new/",
        {
            "email": "jiri@vendor.example",
            "first_name": "Jiří",
            "last_name": "Dvořák",
            "password1": "Sup3r-secret-pw!",
            "password2": "Sup3r-secret-pw!",
            "preferred_language": "CS",  # any case: saved as Django's "cs"
            "time_zone": "Europe/Prague",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    jiri = User.objects.get(email="jiri@vendor.example")
    assert (jiri.preferred_language, jiri.time_zone) == ("cs", "Europe/Prague")


def test_dates_use_the_users_time_zone_and_ui_language(portal):
    user = User.objects.create_user(
        email="anna@acme.example",
        password="x",
        preferred_language="de",
        time_zone="Europe/Berlin",
    )
    client = Client()
    client.force_login(user)
    html = client.get("/", follow=True).content.decode()
    assert 'lang="de"' in html
    # The footer clock in Berlin time, in German's date format ("3. Dezember 2026 14:49 CET").
    assert re.search(r"\d{1,2}\. \w+ \d{4} \d{2}:\d{2} CES?T", html)
