"""Login throttling (django-axes, database handler) on /login/ and /admin/login/, over HTTP.

The limits are the real settings (PORTAL_LOGIN_ACCOUNT_LIMIT, PORTAL_LOGIN_ADDRESS_LIMIT); the
tests read them rather than hard-coding them, so an env override changes nothing here.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client
from wagtail.models import ModelLogEntry

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
LOCKED = "Too many failed attempts. Try again in 15 minutes or reset your password."
WRONG = "Please enter a correct"  # Django's invalid-login text on the portal form


def _client(address: str = "10.0.0.1", **extra) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def _login(client: Client, email: str, password: str, path: str = "/login/"):
    return client.post(path, {"username": email, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def anna(portal):
    return User.objects.create_user(email="anna@acme.example", password=PASSWORD)


def test_cooloff_setting_matches_the_message_under_test():
    # LOCKED above names 15 minutes: the documented default this file asserts against.
    assert settings.PORTAL_LOGIN_COOLOFF_MINUTES == 15


def test_portal_login_refuses_the_right_password_after_n_failures(anna):
    limit = settings.PORTAL_LOGIN_ACCOUNT_LIMIT
    client = _client()
    for _ in range(limit - 1):
        response = _login(client, "anna@acme.example", "wrong")
        assert response.status_code == 200
        assert WRONG in response.content.decode()
    locked = _login(client, "anna@acme.example", "wrong")
    assert locked.status_code == 429
    right = _login(client, "anna@acme.example", PASSWORD)
    html = right.content.decode()
    assert right.status_code == 429
    assert not _logged_in(client)
    # The designed login page, not a bare 403/429 text: the form, the message, the reset link.
    assert LOCKED in html
    assert 'name="password"' in html and 'href="/password-reset/"' in html
    assert 'role="alert"' in html


def test_admin_login_refuses_the_right_password_after_n_failures(portal):
    User.objects.create_user(email="eva@vendor.example", password=PASSWORD, is_staff=True)
    client = _client()
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, "eva@vendor.example", "wrong", "/admin/login/")
    right = _login(client, "eva@vendor.example", PASSWORD, "/admin/login/")
    html = right.content.decode()
    assert right.status_code == 429
    assert not _logged_in(client)
    assert LOCKED in html
    assert 'class="login-form"' in html  # Wagtail's own login page, with its reset link
    assert "/admin/password_reset/" in html


def test_admin_login_still_works_and_counts_the_same_account_as_the_portal(portal):
    User.objects.create_user(email="eva@vendor.example", password=PASSWORD, is_staff=True)
    client = _client()
    assert _login(client, "eva@vendor.example", PASSWORD, "/admin/login/").status_code == 302
    # Failures on either page count for one account.
    other = _client("10.0.0.2")
    half = settings.PORTAL_LOGIN_ACCOUNT_LIMIT // 2
    for _ in range(half):
        _login(other, "Eva@vendor.example", "wrong", "/admin/login/")
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT - half):
        _login(other, "eva@vendor.example", "wrong")
    assert _login(_client("10.0.0.3"), "eva@vendor.example", PASSWORD).status_code == 429


def test_case_variants_of_the_email_count_for_one_account(anna):
    variants = [
        "Anna@ACME.example",
        "ANNA@acme.example",
        " anna@Acme.Example ",
        "anna@acme.example",
    ]
    client = _client()
    for i in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, variants[i % len(variants)], "wrong")
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"anna@acme.example"}
    # Locked for the account from a fresh address, whatever case is typed.
    response = _login(_client("10.0.0.9"), "aNNa@acme.EXAMPLE", PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_account_lock_holds_from_every_address(anna):
    for i in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(_client(f"10.1.0.{i + 1}"), "anna@acme.example", "wrong")
    response = _login(_client("10.2.0.1"), "anna@acme.example", PASSWORD)
    assert response.status_code == 429


def test_address_lock_across_different_accounts(anna):
    address_limit = settings.PORTAL_LOGIN_ADDRESS_LIMIT
    attacker = _client("10.6.6.6")
    # Spread over many accounts: no single account comes near its own limit.
    for i in range(address_limit):
        response = _login(attacker, f"guess{i}@acme.example", "wrong")
    assert response.status_code == 429
    assert max(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 1
    # Anna's right password from that address is refused; from her own address she logs in.
    assert _login(attacker, "anna@acme.example", PASSWORD).status_code == 429
    assert not _logged_in(attacker)
    own = _client("10.0.0.1")
    assert _login(own, "anna@acme.example", PASSWORD).status_code == 302
    assert _logged_in(own)


def test_address_below_its_limit_is_not_locked(anna):
    attacker = _client("10.6.6.7")
    for i in range(settings.PORTAL_LOGIN_ADDRESS_LIMIT - 1):
        _login(attacker, f"guess{i}@acme.example", "wrong")
    assert _login(attacker, "anna@acme.example", PASSWORD).status_code == 302


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'value="[^"]*@[^"]*"', 'value=""', html)


def test_a_locked_unknown_account_looks_like_a_locked_known_one(anna):
    pages = []
    for address, email in (("10.3.0.1", "anna@acme.example"), ("10.3.0.2", "nobody@acme.example")):
        client = _client(address)
        for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
            _login(client, email, "wrong")
        pages.append(_login(client, email, "whatever"))
    known, unknown = pages
    assert known.status_code == unknown.status_code == 429
    assert _normalised(known.content.decode()) == _normalised(unknown.content.decode())


def test_lockout_message_in_the_visitors_language(anna):
    client = _client(HTTP_ACCEPT_LANGUAGE="de")
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        response = _login(client, "anna@acme.example", "wrong")
    html = response.content.decode()
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Versuche" in html and "15 Minuten" in html
    assert "Passwort vergessen?" in html
    admin = _client("10.0.0.8", HTTP_ACCEPT_LANGUAGE="cs")
    response = _login(admin, "anna@acme.example", PASSWORD, "/admin/login/")
    assert response.status_code == 429
    assert "Příliš mnoho neúspěšných pokusů" in response.content.decode()


def test_lockout_ends_after_the_cooloff(anna):
    client = _client()
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, "anna@acme.example", "wrong")
    assert _login(client, "anna@acme.example", PASSWORD).status_code == 429
    # Let the cool-off pass in the database (the failures are the only state there is).
    past = timedelta(minutes=settings.PORTAL_LOGIN_COOLOFF_MINUTES, seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= past
        attempt.save()
    assert _login(client, "anna@acme.example", PASSWORD).status_code == 302


def test_attempts_during_a_lockout_do_not_extend_it(anna):
    client = _client()
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, "anna@acme.example", "wrong")
    before = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))
    for _ in range(3):
        assert _login(client, "anna@acme.example", "wrong").status_code == 429
    after = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))
    assert before == after


def test_lockout_works_with_the_cache_down(anna, settings):
    # Axes keeps its state in the database: a dead Redis (nothing on port 1) changes nothing.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/15",
        }
    }
    client = _client()
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, "anna@acme.example", "wrong")
    assert _login(client, "anna@acme.example", PASSWORD).status_code == 429


def test_a_long_or_odd_login_is_refused_cleanly(anna):
    client = _client()
    response = _login(client, "a" * 300 + "@acme.example", "wrong")
    assert response.status_code == 200
    response = _login(client, "anna\x00@acme.example", "wrong")
    assert response.status_code == 200


def test_forwarded_address_is_used_only_behind_trusted_proxies(anna, settings):
    spoofed = [f"10.9.0.{i}" for i in range(settings.PORTAL_LOGIN_ADDRESS_LIMIT)]
    # No trusted proxy: X-Forwarded-For is the client's claim and is ignored.
    for i, fake in enumerate(spoofed):
        _login(_client("10.8.0.1", HTTP_X_FORWARDED_FOR=fake), f"g{i}@acme.example", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.8.0.1"}
    assert _login(_client("10.8.0.1"), "anna@acme.example", PASSWORD).status_code == 429
    AccessAttempt.objects.all().delete()
    # One trusted proxy: the entry it appended (the right-most) is the client.
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    client = _client("192.0.2.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.7.0.5")
    _login(client, "anna@acme.example", "wrong")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.7.0.5"]


# --- the admin screen ---------------------------------------------------------------------------


def _lock(email: str = "anna@acme.example", address: str = "10.0.0.1") -> None:
    client = _client(address)
    for _ in range(settings.PORTAL_LOGIN_ACCOUNT_LIMIT):
        _login(client, email, "wrong")


def test_admin_lifts_an_account_lockout_and_the_user_logs_in(anna):
    _lock()
    assert _login(_client("10.0.0.2"), "anna@acme.example", PASSWORD).status_code == 429
    admin = User.objects.create_superuser(email="admin@vendor.example", password=PASSWORD)
    staff = Client()
    staff.force_login(admin)
    html = staff.get("/admin/login-lockouts/").content.decode()
    assert "anna@acme.example" in html and "Lift lockout" in html
    assert "Login lockouts" in staff.get("/admin/").content.decode()  # the Settings menu item
    response = staff.post("/admin/login-lockouts/", {"kind": "account", "key": "anna@acme.example"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="anna@acme.example").exists()
    entry = ModelLogEntry.objects.get(action="portal.lockout_lift")
    assert entry.user_id == admin.pk and entry.data == {
        "kind": "account",
        "key": "anna@acme.example",
    }
    assert "<td>anna@acme.example</td>" not in staff.get("/admin/login-lockouts/").content.decode()
    history = staff.get("/admin/reports/site-history/")
    assert history.status_code == 200
    assert "Lifted the login lockout of anna@acme.example" in history.content.decode()
    client = _client("10.0.0.2")
    assert _login(client, "anna@acme.example", PASSWORD).status_code == 302
    assert _logged_in(client)


def test_admin_lifts_an_address_lockout(anna):
    attacker = _client("10.6.6.6")
    for i in range(settings.PORTAL_LOGIN_ADDRESS_LIMIT):
        _login(attacker, f"guess{i}@acme.example", "wrong")
    admin = User.objects.create_superuser(email="admin@vendor.example", password=PASSWORD)
    staff = Client()
    staff.force_login(admin)
    assert "10.6.6.6" in staff.get("/admin/login-lockouts/").content.decode()
    staff.post("/admin/login-lockouts/", {"kind": "address", "key": "10.6.6.6"})
    assert _login(attacker, "anna@acme.example", PASSWORD).status_code == 302


def test_only_permitted_staff_see_or_lift_lockouts(anna):
    _lock()
    editor = User.objects.create_user(email="eva@vendor.example", password=PASSWORD, is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    staff = Client()
    staff.force_login(editor)
    assert staff.get("/admin/login-lockouts/").status_code in (302, 403)
    assert "Login lockouts" not in staff.get("/admin/").content.decode()
    lifted = staff.post("/admin/login-lockouts/", {"kind": "account", "key": "anna@acme.example"})
    assert lifted.status_code in (302, 403)
    assert AccessAttempt.objects.filter(username="anna@acme.example").exists()
    # A group with axes' view permission sees the list but has no button and cannot lift.
    viewers = Group.objects.create(name="Support (view)")
    viewers.permissions.add(Permission.objects.get(codename="view_accessattempt"))
    editor.groups.add(viewers)
    staff.force_login(User.objects.get(pk=editor.pk))
    html = staff.get("/admin/login-lockouts/").content.decode()
    assert "anna@acme.example" in html and "Lift lockout" not in html
    refused = staff.post("/admin/login-lockouts/", {"kind": "account", "key": "anna@acme.example"})
    assert refused.status_code in (302, 403)
    assert AccessAttempt.objects.filter(username="anna@acme.example").exists()
    # The delete permission lifts.
    viewers.permissions.add(Permission.objects.get(codename="delete_accessattempt"))
    staff.force_login(User.objects.get(pk=editor.pk))
    staff.post("/admin/login-lockouts/", {"kind": "account", "key": "anna@acme.example"})
    assert not AccessAttempt.objects.filter(username="anna@acme.example").exists()


def test_the_axes_permissions_are_offered_in_the_group_editor(portal):
    admin = User.objects.create_superuser(email="admin@vendor.example", password=PASSWORD)
    staff = Client()
    staff.force_login(admin)
    html = staff.get("/admin/groups/new/").content.decode()
    ids = Permission.objects.filter(content_type__app_label="axes").values_list("pk", flat=True)
    assert any(f'value="{pk}"' in html for pk in ids)
