"""Reads of the accounts app: the login lockouts in force (for the admin screen)."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from .services import Lockout


def login_lockouts() -> list[Lockout]:
    """Accounts and client addresses locked right now, latest failure first.

    The same rule as ``accounts.throttling.PortalAxesHandler``: failures inside the cool-off
    window, an account at ``PORTAL_LOGIN_ACCOUNT_LIMIT``, an address at
    ``PORTAL_LOGIN_ADDRESS_LIMIT``.
    """
    since = timezone.now() - timedelta(minutes=settings.PORTAL_LOGIN_COOLOFF_MINUTES)
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    lockouts: list[Lockout] = []
    for kind, field, limit in (
        ("account", "username", settings.PORTAL_LOGIN_ACCOUNT_LIMIT),
        ("address", "ip_address", settings.PORTAL_LOGIN_ADDRESS_LIMIT),
    ):
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
        )
        lockouts.extend(
            Lockout(kind=kind, key=row[field], failures=row["failures"], last_failure=row["last"])
            for row in rows
        )
    return sorted(lockouts, key=lambda lockout: lockout.last_failure, reverse=True)


def organization_members(organization) -> list:
    """The organisation's memberships with their users (admins first, then by e-mail)."""
    from permissions.models import Membership

    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("role", "user__email")
    )


def organization_invitations_pending(organization) -> list:
    """Invitations of the organisation that can still be accepted, newest first."""
    from .models import Invitation

    return list(
        Invitation.objects.filter(
            organization=organization,
            accepted_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        ).select_related("invited_by")
    )


def organization_changes(organization, limit: int = 50) -> list:
    """The organisation's recent audit trail (permissions.OrganizationChange), newest first."""
    from permissions.models import OrganizationChange

    return list(OrganizationChange.objects.filter(organization=organization)[:limit])
