"""Writes of the accounts app: password-reset requests and lifting login lockouts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from wagtail.log_actions import log

from .languages import normalize_language
from .models import DigestFrequency, Invitation, PasswordResetRequest, User, time_zone_choices
from .throttling import normalize_login

if TYPE_CHECKING:
    from permissions.models import PartnerOrganization

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


# --- invitations to a partner organisation ------------------------------------------------------


class InvitationError(ValueError):
    """An invitation that cannot be made or accepted; ``str(exc)`` is user-readable."""


def invitation_token_hash(token: str) -> str:
    """What the table stores of an invitation link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_issue_token(*, invitation: Invitation) -> str:
    """Make a fresh link token for ``invitation`` and store its hash (a previous link stops
    working). Called by the task that sends the e-mail; returns the token for the link."""
    token = secrets.token_urlsafe(32)
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=invitation_token_hash(token))
    invitation.token_hash = invitation_token_hash(token)
    return token


@transaction.atomic
def invitation_create(
    *, organization: PartnerOrganization, email: str, role: str, invited_by: User
) -> Invitation:
    """Invite ``email`` to ``organization`` with ``role``; the e-mail is queued in the same
    transaction (accounts.tasks.send_invitation_task, in the inviter's language).

    A pending invitation of the same address to the same organisation is replaced (revoked):
    one working link per address.

    Raises:
        InvitationError: the organisation sent ``PORTAL_INVITATIONS_PER_DAY`` invitations in
            the last 24 hours, or the address already belongs to a member of this
            organisation. Whether an address has an account elsewhere is not told here (the
            admin could probe for accounts); the person who opens the link is told instead.
    """
    from permissions.models import Membership, OrganizationChange
    from permissions.services import organization_change_record

    from .tasks import send_invitation_task

    email = (normalize_login(email) or "").strip()
    if role not in Membership.Role.values:
        raise InvitationError(gettext("Unknown role."))
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise InvitationError(gettext("%(email)s is already a member.") % {"email": email})
    now = timezone.now()
    # A cap on e-mails an organisation's admins can make the portal send (abuse, mistakes).
    recent = Invitation.objects.filter(
        organization=organization, created_at__gte=now - timedelta(days=1)
    ).count()
    if recent >= settings.PORTAL_INVITATIONS_PER_DAY:
        raise InvitationError(
            gettext("Your organisation has sent %(count)s invitations today; try again tomorrow.")
            % {"count": recent}
        )
    pending = Invitation.objects.filter(
        organization=organization,
        email__iexact=email,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=now,
    )
    pending.update(revoked_at=now)
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, invited_by=invited_by
    )
    organization_change_record(
        organization=organization,
        action=OrganizationChange.Action.INVITE,
        actor=invited_by,
        subject_email=email,
        after={"role": role, "expires_at": invitation.expires_at.isoformat()},
    )
    # Same transaction as the row: with the database task queue, both or neither.
    send_invitation_task.enqueue(invitation_id=invitation.pk)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Revoke a pending invitation: its link stops working at once (audited)."""
    from permissions.models import OrganizationChange
    from permissions.services import organization_change_record

    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise InvitationError(gettext("This invitation is no longer pending."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    organization_change_record(
        organization=invitation.organization,
        action=OrganizationChange.Action.REVOKE,
        actor=actor,
        subject_email=invitation.email,
    )
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token belongs to (pending or not), or None."""
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("organization")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used (a user-readable message), or None if it can."""
    if invitation is None:
        return gettext(
            "This invitation link is not valid. Ask your organisation's admin for a new one."
        )
    if invitation.accepted_at is not None:
        return gettext("This invitation has already been used. Log in with your account.")
    if invitation.revoked_at is not None:
        return gettext(
            "This invitation was withdrawn. Ask your organisation's admin for a new one."
        )
    if invitation.is_expired:
        return gettext("This invitation has expired. Ask your organisation's admin for a new one.")
    if not invitation.organization.is_active:
        return gettext("This invitation can no longer be accepted.")
    if User.objects.filter(email__iexact=invitation.email).exists():
        # Told only to whoever holds the link (the mailbox's owner), never to the inviter.
        return gettext(
            "This e-mail address already has a portal account. Log in with it; if it should "
            "belong to this organisation, ask your vendor contact to move it."
        )
    return None


@transaction.atomic
def invitation_accept(
    *, token: str, first_name: str, last_name: str, password: str, language: str | None = None
) -> User:
    """Accept an invitation: create the user and the membership together (one transaction).

    The password must already have passed Django's validators (the accept form checks them).

    Raises:
        InvitationError: the link is unknown, used, revoked or expired, the organisation is
            suspended, or the address already has an account.
    """
    from permissions.models import OrganizationChange
    from permissions.services import membership_set, organization_change_record

    found = invitation_for_token(token)
    invitation = (
        Invitation.objects.select_for_update().select_related("organization").get(pk=found.pk)
        if found is not None
        else None
    )
    problem = invitation_problem(invitation)
    if problem is not None or invitation is None:
        raise InvitationError(problem)
    user = User.objects.create_user(
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        preferred_language=normalize_language(language) or settings.LANGUAGE_CODE,
    )
    membership_set(user=user, organization=invitation.organization, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    organization_change_record(
        organization=invitation.organization,
        action=OrganizationChange.Action.ACCEPT,
        actor=user,
        subject_email=user.email,
        after={"role": invitation.role},
    )
    return user
