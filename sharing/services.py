"""Creating, revoking and counting share links. Callers have asked ``share_link_policy`` first."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from permissions.policies.principal import principal_for

from .models import ShareLink

# secrets.token_urlsafe(32): 32 random bytes, 43 URL-safe base64 characters.
TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
PREFIX_LENGTH = 6


def token_hash(token: str) -> str:
    """What a token is stored and looked up as (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_is_well_formed(token: str) -> bool:
    return bool(TOKEN_RE.match(token))


def share_link_create(
    *, user: Any, item: Any, label: str = "", days: int | None = None, password: str = ""
) -> tuple[ShareLink, str]:
    """A new link to ``item`` co-branded for ``user``'s organisation, open for ``days`` days
    (default ``PORTAL_SHARE_LINK_DEFAULT_DAYS``, 1..``PORTAL_SHARE_LINK_MAX_DAYS``), with an
    optional password (stored as Django's password hash).

    Returns:
        (the link, its token): the token is shown to the partner once and never again.

    Raises:
        ValueError: ``days`` out of range, or ``user`` has no organisation (a message for people).
    """
    if days is None:
        days = settings.PORTAL_SHARE_LINK_DEFAULT_DAYS
    maximum = settings.PORTAL_SHARE_LINK_MAX_DAYS
    if not 1 <= days <= maximum:
        raise ValueError(_("A link can be open for 1 to %(max)d days.") % {"max": maximum})
    organization = principal_for(user).organization
    if organization is None:
        raise ValueError(_("Only members of a partner organisation can share items."))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        organization=organization,
        item_id=item.pk,
        created_by=user,
        created_by_email=user.email[:254],
        token_hash=token_hash(token),
        token_prefix=token[:PREFIX_LENGTH],
        label=label.strip()[:200],
        password=make_password(password) if password else "",
        expires_at=timezone.now() + timedelta(days=days),
    )
    return link, token


def share_link_revoke(*, link: ShareLink, user: Any) -> bool:
    """Close ``link`` for good. Returns False when it was already revoked (kept as it was)."""
    now = timezone.now()
    updated = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=user
    )
    if updated:
        link.revoked_at, link.revoked_by = now, user
    return bool(updated)


def share_link_count_view(link: ShareLink) -> None:
    """One more view of the customer page (an UPDATE with F(): concurrent views all count)."""
    ShareLink.objects.filter(pk=link.pk).update(
        view_count=F("view_count") + 1, last_used_at=timezone.now()
    )


def share_link_count_download(link: ShareLink) -> None:
    """One more download of the co-branded file."""
    ShareLink.objects.filter(pk=link.pk).update(
        download_count=F("download_count") + 1, last_used_at=timezone.now()
    )


# --- the password gate -------------------------------------------------------------------------
#
# Wrong passwords are counted per link and client address in the cache (a link's password is
# short-lived and guessing is the attack; axes' tables are for accounts). After
# PORTAL_SHARE_PASSWORD_LIMIT wrong ones the address waits PORTAL_SHARE_PASSWORD_WINDOW_MINUTES.


def _attempts_key(link: ShareLink, address: str | None) -> str:
    return f"sharing:password:{link.pk}:{address or '-'}"


def password_locked(link: ShareLink, address: str | None) -> bool:
    """Has ``address`` used up its wrong passwords on ``link`` for now?"""
    return cache.get(_attempts_key(link, address), 0) >= settings.PORTAL_SHARE_PASSWORD_LIMIT


def password_check(link: ShareLink, password: str, address: str | None) -> bool:
    """Is ``password`` the link's? A wrong one is counted against ``address``."""
    if link.password and check_password(password, link.password):
        return True
    key = _attempts_key(link, address)
    window = settings.PORTAL_SHARE_PASSWORD_WINDOW_MINUTES * 60
    if not cache.add(key, 1, window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window)
    return False
