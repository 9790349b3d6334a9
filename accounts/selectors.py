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
