"""Writes of the digest app: who is due, sending one user's digest (once), the signed switch-off
link and switching the digest off and back on.

Scheduling: ``digest_send_due(now)`` is run periodically (the ``send_digests`` command, the
``digest_send_due_task`` background task, and the scheduling app's job once it is merged). It is
idempotent: each user is claimed by a compare-and-set of ``DigestSubscription.last_sent_at``, an
UPDATE that only one of two concurrent workers can win on PostgreSQL and SQLite alike, so two
workers (or two overlapping runs) never send one user the same digest twice.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from accounts.models import DigestFrequency, User
from accounts.services import user_digest_frequency_set, user_notify_new_versions_set
from scheduling.services import DATABASE_FAULTS, connection_refresh

from .models import DigestSubscription
from .selectors import DigestContent, digest_content

logger = logging.getLogger("portal.digest")

SIGNING_SALT = "portal.digest.switch-off"
PERIODS = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(weeks=1)}
# A user without a digest who asked to be told about new versions of what they downloaded
# (``User.notify_new_versions``) gets a downloads-only e-mail at the daily digest's slot.
VERSIONS_ONLY = "versions"


def digest_kind(user: User) -> str | None:
    """Which e-mail the digest job sends ``user``: their digest frequency (daily, weekly), or
    ``VERSIONS_ONLY`` (no digest, ``notify_new_versions`` on; daily), or None (nothing)."""
    if user.digest_frequency in PERIODS:
        return user.digest_frequency
    if user.notify_new_versions:
        return VERSIONS_ONLY
    return None


# -- the signed link -------------------------------------------------------------------------------


def _address_tag(email: str) -> str:
    # A keyed hash, not the address: the token is readable (signed, not encrypted) and URLs end
    # up in logs.
    return salted_hmac(SIGNING_SALT, email.lower()).hexdigest()[:16]


def digest_token_make(user: User) -> str:
    """The signed, timestamped token of ``user``'s switch-off link (no login needed: the token
    is the credential). It names the user and (hashed) their address at signing time, so a link
    from a mail sent to an address the account no longer has does nothing."""
    return signing.dumps({"u": user.pk, "e": _address_tag(user.email)}, salt=SIGNING_SALT)


class DigestLinkExpired(Exception):
    """A genuine link older than ``PORTAL_DIGEST_LINK_DAYS``."""


def digest_token_user(token: str) -> User | None:
    """The user a switch-off token was made for, or None for a tampered/foreign token or an
    account that is gone or has another address now.

    Raises:
        DigestLinkExpired: the signature is genuine but older than ``PORTAL_DIGEST_LINK_DAYS``.
    """
    try:
        data = signing.loads(
            token, salt=SIGNING_SALT, max_age=timedelta(days=settings.PORTAL_DIGEST_LINK_DAYS)
        )
    except signing.SignatureExpired as expired:
        raise DigestLinkExpired from expired
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None or _address_tag(user.email) != data.get("e"):
        return None
    return user


def digest_switch_url(user: User) -> str:
    """The absolute one-click switch-off address for ``user`` (also the List-Unsubscribe one)."""
    path = reverse("digest:switch", args=[digest_token_make(user)])
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def digest_switch_off(user: User) -> str:
    """Switch off every e-mail the digest job sends ``user`` (the digest and the new-version
    e-mail: the one-click link stops the mail it came in, whichever it was); returns the
    frequency the digest had (to offer switching it back)."""
    previous = user.digest_frequency
    with transaction.atomic():
        user_digest_frequency_set(user=user, frequency=DigestFrequency.NONE)
        user_notify_new_versions_set(user=user, notify=False)
    return previous


def digest_switch_on(user: User, frequency: str) -> None:
    """Switch ``user``'s digest back on at ``frequency`` (daily or weekly).

    The clock starts afresh: the first digest comes at the next slot after the next run and
    covers one period, not everything since the digest was switched off.

    Raises:
        ValueError: ``frequency`` is not daily or weekly.
    """
    if frequency not in PERIODS:
        raise ValueError(f"not a digest frequency: {frequency!r}")
    with transaction.atomic():
        user_digest_frequency_set(user=user, frequency=frequency)
        DigestSubscription.objects.filter(user=user).update(last_sent_at=None)


# -- who is due ------------------------------------------------------------------------------------


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def digest_slot(now: datetime, zone: zoneinfo.ZoneInfo, frequency: str) -> datetime:
    """The latest time at or before ``now`` when a ``frequency`` digest is due in ``zone``:
    ``PORTAL_DIGEST_HOUR`` o'clock local time, every day or on ``PORTAL_DIGEST_WEEKDAY``.

    Local wall-clock time: on a daylight-saving day the digest still comes at 07:00.
    """
    local = now.astimezone(zone)
    slot = local.replace(hour=settings.PORTAL_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if frequency == DigestFrequency.WEEKLY:
        slot -= timedelta(days=(slot.weekday() - settings.PORTAL_DIGEST_WEEKDAY) % 7)
        if slot > local:
            slot -= timedelta(days=7)
    elif slot > local:
        slot -= timedelta(days=1)
    # Rebuild from the wall-clock fields so a DST change between the two dates is applied.
    return datetime(slot.year, slot.month, slot.day, slot.hour, tzinfo=zone)


@dataclass(frozen=True)
class DueUser:
    user: User
    slot: datetime  # the scheduled time this digest is for
    last_sent_at: datetime | None


def _subscribers() -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(digest_frequency__in=list(PERIODS)) | Q(notify_new_versions=True))
        .exclude(email="")
        .select_related("digest_subscription")
        .order_by("pk")
    )


def digest_due_users(now: datetime) -> list[DueUser]:
    """Active users with a digest (or the new-version e-mail, daily) whose latest slot
    (``digest_slot``) is after their last run."""
    due = []
    for user in _subscribers():
        kind = digest_kind(user)
        frequency = DigestFrequency.DAILY if kind == VERSIONS_ONLY else user.digest_frequency
        slot = digest_slot(now, _zone(user.time_zone), frequency)
        subscription = getattr(user, "digest_subscription", None)
        last = subscription.last_sent_at if subscription is not None else None
        if last is None or last < slot:
            due.append(DueUser(user, slot, last))
    return due


# -- sending ---------------------------------------------------------------------------------------


def _claim(user: User, expected: datetime | None, now: datetime) -> bool:
    """Move ``user``'s ``last_sent_at`` from ``expected`` to ``now``; False when another run did
    first (the compare fails). One UPDATE: the database serialises concurrent claims."""
    if expected is None and not DigestSubscription.objects.filter(user=user).exists():
        try:
            with transaction.atomic():
                DigestSubscription.objects.create(user=user, last_sent_at=now)
            return True
        except IntegrityError:  # another worker created it a moment ago: it won
            return False
    rows = DigestSubscription.objects.filter(user=user, last_sent_at=expected)
    if expected is None:
        rows = DigestSubscription.objects.filter(user=user, last_sent_at__isnull=True)
    return rows.update(last_sent_at=now) == 1


def digest_message(user: User, content: DigestContent) -> EmailMultiAlternatives:
    """The digest e-mail of ``user``: subject, text and HTML in their UI language, dates in their
    time zone, a one-click switch-off link (``List-Unsubscribe`` with ``List-Unsubscribe-Post``,
    RFC 8058) and every link absolute."""
    zone = _zone(user.time_zone)
    switch_url = digest_switch_url(user)
    base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    context = {
        "user": user,
        "content": content,
        "frequency": digest_kind(user),
        "switch_url": switch_url,
        "profile_url": base_url + reverse("accounts:profile"),
        "portal_url": base_url + "/",
        "zone": zone.key,
    }
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone):
        subject = " ".join(render_to_string("digest/email/subject.txt", context).split())
        text = render_to_string("digest/email/body.txt", context)
        html = render_to_string("digest/email/body.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        None,
        [user.email],
        headers={
            "List-Unsubscribe": f"<{switch_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def digest_send(
    user: User, *, now: datetime, slot: datetime, last_sent_at: datetime | None
) -> bool | None:
    """Send ``user``'s digest for the run at ``now`` unless another run already has.

    Claims the user first (``last_sent_at``: ``last_sent_at`` → ``now``), then builds the content
    for (since, now] with the page policy asked now, and sends it when there is something to tell.
    If building or sending fails, the claim is given back, so the next run tries again; a worker
    killed between claim and send loses that one digest (at most once, never twice).

    A user's first run (``last_sent_at`` None) sends nothing: it sets ``last_sent_at`` to
    ``slot``, so the first digest comes at the next slot and covers one whole period.

    Returns:
        True: sent; False: nothing to tell (no e-mail); None: another run had claimed the user.
    """
    if last_sent_at is None:
        # The first run for this user (or the first since they switched the digest on again)
        # only starts the clock at the slot just passed: the first digest comes at the next
        # slot, on time, and covers one whole period.
        return False if _claim(user, None, slot) else None
    if not _claim(user, last_sent_at, now):
        return None
    # After a long pause (a stopped worker) look back no further than the home page's "new".
    since = max(last_sent_at, now - timedelta(days=settings.PORTAL_NEW_DAYS))
    try:
        content = digest_content(
            user, since=since, until=now, downloads_only=digest_kind(user) == VERSIONS_ONLY
        )
        if not content:
            return False
        digest_message(user, content).send()
    except Exception:
        _claim_give_back(user, now=now, last_sent_at=last_sent_at)
        raise
    try:
        DigestSubscription.objects.filter(user=user).update(last_emailed_at=now)
    except DATABASE_FAULTS:
        # Sent: the claim stays (never twice); only the "last e-mail" date is not recorded.
        logger.warning("digest for user %s sent; its date was not recorded", user.pk)
    return True


def _claim_give_back(user: User, *, now: datetime, last_sent_at: datetime | None) -> None:
    """Undo the claim (``now`` -> ``last_sent_at``) so the next run sends this digest. The
    failure may have been a lost connection: then once more on a fresh one, or the claim would
    stay and the digest be lost."""
    for attempt in (1, 2):
        connection_refresh()
        try:
            DigestSubscription.objects.filter(user=user, last_sent_at=now).update(
                last_sent_at=last_sent_at
            )
            return
        except DATABASE_FAULTS:
            if attempt == 2:
                logger.exception("digest for user %s: could not give its claim back", user.pk)


def _digest_send_retrying(due: DueUser, now: datetime) -> bool | None:
    """``digest_send`` for ``due``; after a lost database connection (a failover, a terminated
    backend) once more on a fresh connection: the claim was given back or never made, and
    without this one fault would fail this user and every user after it in the run, whose
    digests would then wait for the next run (docs/scheduling.md: 15 minutes)."""
    try:
        return digest_send(due.user, now=now, slot=due.slot, last_sent_at=due.last_sent_at)
    except DATABASE_FAULTS as fault:
        logger.warning(
            "digest for user %s met a lost connection (%r); retrying", due.user.pk, fault
        )
        connection_refresh()
        return digest_send(due.user, now=now, slot=due.slot, last_sent_at=due.last_sent_at)


@dataclass
class DigestRun:
    sent: int = 0
    empty: int = 0  # due, but nothing to tell
    skipped: int = 0  # claimed by another run
    failed: int = 0


def digest_send_due(now: datetime | None = None) -> DigestRun:
    """Send every due digest (``digest_due_users``) as of ``now`` (default: the current time).

    Idempotent: run it as often as you like, from as many workers as you like; each user gets
    one digest per slot. One user's failure (a refused address) is logged and the others go on.
    """
    now = now or timezone.now()
    run = DigestRun()
    # Whoever switched the digest off (here or on the profile page) starts afresh when they
    # switch it on again, instead of getting everything since their last digest at once.
    DigestSubscription.objects.filter(
        user__digest_frequency=DigestFrequency.NONE,
        user__notify_new_versions=False,
        last_sent_at__isnull=False,
    ).update(last_sent_at=None)
    for due in digest_due_users(now):
        try:
            outcome = _digest_send_retrying(due, now)
        except Exception:
            logger.exception("digest for user %s failed; retried on the next run", due.user.pk)
            run.failed += 1
            continue
        if outcome is None:
            run.skipped += 1
        elif outcome:
            run.sent += 1
        else:
            run.empty += 1
    if run.sent or run.failed:
        logger.info(
            "digests: %s sent, %s with nothing new, %s failed", run.sent, run.empty, run.failed
        )
    return run
