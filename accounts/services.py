"""Writes of the accounts app: password-reset requests and lifting login lockouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from wagtail.log_actions import log

from .languages import normalize_language
from .models import DigestFrequency, PasswordResetRequest, User, time_zone_choices
from .throttling import normalize_login

LOCKOUT_LIFT_ACTION = "portal.lockout_lift"


def email_digest(email: str) -> str:
    """The keyed hash the rate limit stores instead of the address."""
    return salted_hmac("portal.password-reset", normalize_login(email) or "").hexdigest()


@transaction.atomic
def password_reset_request(*, email: str, ip_address: str | None) -> bool:
    """Record a request for a reset e-mail to ``email`` and queue the e-mail.

    The answer never depends on whether an account has that address: the mail task looks the
    users up later, outside the request (a known address costs the page no extra time when tasks
    run in the worker).

    Parameters:
        email: the address typed into the form.
        ip_address: the client's address (``accounts.throttling.client_ip``), or None.

    Returns:
        False (nothing queued, nothing recorded) when the address or the e-mail has used up its
        requests in the window (``PORTAL_PASSWORD_RESET_*``); True otherwise.
    """
    from .tasks import send_password_reset_task

    now = timezone.now()
    window = now - timedelta(minutes=settings.PORTAL_PASSWORD_RESET_WINDOW_MINUTES)
    # Old rows are useless to the limit: drop them as we go (the table stays small).
    PasswordResetRequest.objects.filter(created_at__lt=window).delete()
    digest = email_digest(email)
    recent = PasswordResetRequest.objects.filter(created_at__gte=window)
    if recent.filter(email_digest=digest).count() >= settings.PORTAL_PASSWORD_RESET_EMAIL_LIMIT:
        return False
    if (
        ip_address
        and recent.filter(ip_address=ip_address).count()
        >= settings.PORTAL_PASSWORD_RESET_ADDRESS_LIMIT
    ):
        return False
    PasswordResetRequest.objects.create(email_digest=digest, ip_address=ip_address, created_at=now)
    # Same transaction as the row above: with the database task queue, both or neither.
    send_password_reset_task.enqueue(email=normalize_login(email) or "")
    return True


@dataclass(frozen=True)
class Lockout:
    """A locked account (``username``) or a locked client address (``ip_address``)."""

    kind: str  # "account" or "address"
    key: str
    failures: int
    last_failure: datetime


def _lockout_object(kind: str, key: str) -> AccessAttempt | None:
    field = "username" if kind == "account" else "ip_address"
    return AccessAttempt.objects.filter(**{field: key}).order_by("-attempt_time").first()


@transaction.atomic
def login_lockout_lift(*, kind: str, key: str, user=None) -> int:
    """Lift the lockout of an account (``kind="account"``, key = the e-mail as axes tracks it) or
    of a client address (``kind="address"``): delete its failed attempts with axes' reset utility.

    Audited as a Wagtail log entry (``portal.lockout_lift``) on the latest attempt row, written
    before the rows go. ``user`` is who lifted it (None: the user's own password reset).

    Returns:
        The number of attempt rows removed (0: nothing was locked, nothing logged).

    Raises:
        ValueError: on an unknown ``kind``.
    """
    if kind not in ("account", "address"):
        raise ValueError(f"unknown lockout kind {kind!r}")
    if kind == "account":
        key = normalize_login(key) or ""
    attempt = _lockout_object(kind, key)
    if attempt is None:
        return 0
    log(
        instance=attempt,
        action=LOCKOUT_LIFT_ACTION,
        user=user,
        data={"kind": kind, "key": key},
    )
    if kind == "account":
        return axes_reset(username=key)
    return axes_reset(ip=key)


@transaction.atomic
def user_preferences_update(
    *,
    user: User,
    preferred_language: str,
    time_zone: str,
    notify_new_versions: bool,
    digest_frequency: str,
) -> User:
    """Save ``user``'s profile preferences (the profile page).

    Parameters:
        preferred_language: a settings.LANGUAGES code, any case (normalised).
        time_zone: an IANA zone name (``accounts.models.time_zone_choices``).
        notify_new_versions: e-mail when a file they downloaded gets a new version.
        digest_frequency: ``none``, ``daily`` or ``weekly`` (``DigestFrequency``).

    Raises:
        ValueError: an unknown language, time zone or digest frequency.
    """
    language = normalize_language(preferred_language)
    if language is None:
        raise ValueError(f"unknown UI language {preferred_language!r}")
    if time_zone not in {zone for zone, _label in time_zone_choices()}:
        raise ValueError(f"unknown time zone {time_zone!r}")
    if digest_frequency not in DigestFrequency.values:
        raise ValueError(f"unknown digest frequency {digest_frequency!r}")
    user.preferred_language = language
    user.time_zone = time_zone
    user.notify_new_versions = notify_new_versions
    user.digest_frequency = digest_frequency
    user.save(
        update_fields=[
            "preferred_language",
            "time_zone",
            "notify_new_versions",
            "digest_frequency",
        ]
    )
    return user


@transaction.atomic
def user_digest_frequency_set(*, user: User, frequency: str) -> User:
    """Set how often ``user`` gets the digest e-mail (``none`` switches it off): the digest's
    signed one-click link, which needs no login (digest.views).

    Raises:
        ValueError: an unknown frequency (``DigestFrequency``).
    """
    if frequency not in DigestFrequency.values:
        raise ValueError(f"unknown digest frequency {frequency!r}")
    if user.digest_frequency != frequency:
        user.digest_frequency = frequency
        user.save(update_fields=["digest_frequency"])
    return user


@transaction.atomic
def user_notify_new_versions_set(*, user: User, notify: bool) -> User:
    """Set whether ``user`` is e-mailed when a file they downloaded gets a new version (or is
    withdrawn): the digest's signed one-click link switches it off with the digest."""
    if user.notify_new_versions != notify:
        user.notify_new_versions = notify
        user.save(update_fields=["notify_new_versions"])
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Save ``language`` (any case; normalised) as ``user``'s UI language (the switcher).

    Raises:
        ValueError: ``language`` is not one of settings.LANGUAGES.
    """
    code = normalize_language(language)
    if code is None:
        raise ValueError(f"unknown UI language {language!r}")
    if user.preferred_language != code:
        user.preferred_language = code
        user.save(update_fields=["preferred_language"])
    return user
