"""Login throttling on both login pages with django-axes (database handler).

Axes counts failed logins in ``axes.AccessAttempt`` rows (one per account × address × user agent).
What this module adds to it:

* the account axes tracks is the e-mail the user typed, stripped and lower-cased, so
  ``Anna@ACME.example`` and ``anna@acme.example`` are one account — on the portal form and on
  Wagtail's admin form alike (both post it as ``username``);
* two limits instead of one: an account locks after ``PORTAL_LOGIN_ACCOUNT_LIMIT`` failures from any
  address, an address after ``PORTAL_LOGIN_ADDRESS_LIMIT`` failures for any accounts;
* the client address behind ``PORTAL_TRUSTED_PROXY_COUNT`` reverse proxies;
* the lockout answer: the login page itself (status 429) with "Too many failed attempts. Try again
  in N minutes or reset your password." in the visitor's language. Whether the account exists
  plays no part in any of it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

# The longest e-mail address axes stores (AccessAttempt.username is 255 characters).
_USERNAME_MAX = 254


def normalize_login(value: Any) -> str | None:
    """The account key of a typed login: the e-mail address, stripped and lower-cased."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip().lower()
    return text[:_USERNAME_MAX] or None


def client_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the normalised e-mail of this login attempt.

    Django's ``authenticate()`` passes the credentials as typed (``username``); axes' own success
    path passes ``{"username": user.get_username()}``. Without credentials, the posted form field.
    """
    if credentials:
        value = credentials.get("username", credentials.get("email"))
    elif request is not None:
        value = getattr(request, "POST", {}).get("username")
    else:
        value = None
    return normalize_login(value)


def client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the client address, behind the trusted reverse proxies.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so with
    N proxies the client is the N-th entry from the right; anything further left is what the client
    claims and is never believed. A malformed entry falls back to REMOTE_ADDR (the column is an IP
    address field: a bad value must not reach the database).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.PORTAL_TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            candidate = forwarded[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote


class PortalAxesBackend(AxesStandaloneBackend):
    """Axes' gate, first in ``AUTHENTICATION_BACKENDS``: refuses any login of a locked account or
    address, the right password included.

    A call without a request (``manage.py`` code, the test client's ``login()``) has no client to
    throttle and is let through to the next backend; every HTTP login path (the portal's and
    Wagtail's LoginView, both Django's ``AuthenticationForm``) passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _client_address(request: HttpRequest) -> str | None:
    """The client address axes resolved for this request (it sets it before calling a handler)."""
    return request.axes_ip_address  # type: ignore[attr-defined]  # axes' own request attribute


def _failures(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class PortalAxesHandler(AxesDatabaseHandler):
    """The database handler with a limit per account and another per address.

    Axes compares one failure count with one limit (``AXES_FAILURE_LIMIT`` = the account limit N).
    ``get_failures`` returns the larger of the account's failures and the address's failures
    scaled onto N (``address × N // M``), which reaches N exactly when the address reaches its own
    limit M, so axes' unchanged comparison applies both limits.
    """

    def failure_counts(self, request: HttpRequest, credentials: dict | None) -> tuple[int, int]:
        """Failures inside the cool-off window: (for this account, from this address)."""
        username = get_client_username(request, credentials)
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        account = address = 0
        if username:
            account = _failures(recent.filter(username=username))
        if client_address := _client_address(request):
            address = _failures(recent.filter(ip_address=client_address))
        return account, address

    def get_failures(self, request, credentials: dict | None = None) -> int:
        account, address = self.failure_counts(request, credentials)
        account_limit = settings.PORTAL_LOGIN_ACCOUNT_LIMIT
        address_limit = settings.PORTAL_LOGIN_ADDRESS_LIMIT
        return max(account, address * account_limit // address_limit)

    def lockout_ends(self, request: HttpRequest, credentials: dict | None) -> datetime:
        """When the lockout lifts at the latest: the last counted failure plus the cool-off."""
        username = get_client_username(request, credentials)
        match = Q(ip_address=_client_address(request))
        if username:
            match |= Q(username=username)
        last = (
            AccessAttempt.objects.filter(match)
            .filter(attempt_time__gte=get_cool_off_threshold(request))
            .aggregate(last=Max("attempt_time"))["last"]
        )
        return (last or timezone.now()) + get_cool_off(request)


@contextmanager
def login_gate(login: Any) -> Iterator[None]:
    """Run one login attempt (axes' check, the password check, axes' count) alone for its account.

    A transaction that starts by writing the account's ``LoginGate`` row: PostgreSQL holds that
    row's lock, SQLite its write lock, until the attempt is counted, so the next attempt for the
    account sees the count. Logins of other accounts (other slots) run in parallel on PostgreSQL.
    """
    from .models import LoginGate

    key = normalize_login(login) or ""
    slot = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % LoginGate.SLOTS
    with transaction.atomic():
        now = timezone.now()
        if not LoginGate.objects.filter(slot=slot).update(touched_at=now):
            try:
                with transaction.atomic():
                    LoginGate.objects.create(slot=slot, touched_at=now)
            except IntegrityError:
                # Another attempt created it first: wait for its lock like everyone else.
                LoginGate.objects.filter(slot=slot).update(touched_at=now)
        yield


def lockout_message(request: HttpRequest, credentials: dict | None) -> str:
    """The lockout text in the active language, with the minutes left (at least 1)."""
    from axes.handlers.proxy import AxesProxyHandler

    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    if isinstance(handler, PortalAxesHandler):
        left = handler.lockout_ends(request, credentials) - timezone.now()
    else:
        left = get_cool_off(request) or timedelta(minutes=settings.PORTAL_LOGIN_COOLOFF_MINUTES)
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute or reset your password.",
        "Too many failed attempts. Try again in %(minutes)d minutes or reset your password.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page the form already rendered with the lockout
    message (see ``accounts.forms.LockoutMessageMixin``), answered with 429.

    A login through any other path (no form rendered the message) gets a page of its own that
    says the same thing, never axes' bare text.
    """
    status = settings.AXES_HTTP_RESPONSE_CODE
    if original_response is not None and getattr(request, "portal_lockout_rendered", False):
        original_response.status_code = status
        return original_response
    return render(
        request,
        "accounts/locked_out.html",
        {"message": lockout_message(request, credentials)},
        status=status,
    )
