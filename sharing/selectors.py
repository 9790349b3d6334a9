"""Reads for share links: by token (the customer's request), the partner's list, the action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from permissions.policies.principal import principal_for
from permissions.policies.sharing import ClosedReason, share_link_policy

from .models import ShareLink
from .services import token_hash, token_is_well_formed

# What the partner reads for each reason a link is closed (the customer never sees these).
CLOSED_REASONS: dict[str, Any] = {
    "revoked": _("revoked"),
    "expired": _("expired"),
    "organization_suspended": _("closed: your organisation is suspended"),
    "creator_inactive": _("closed: its creator's account is deactivated"),
    "creator_left": _("closed: its creator is no longer a member of your organisation"),
    "not_cobrandable": _("closed: the item can no longer be co-branded"),
    "not_entitled": _("closed: the item is no longer available to its creator"),
}


def share_link_by_token(token: str) -> ShareLink | None:
    """The link a customer's token names (any state; ask the policy whether it is open)."""
    if not token_is_well_formed(token):
        return None
    return (
        ShareLink.objects.select_related("organization", "item", "created_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


@dataclass(frozen=True)
class LinkRow:
    """One line of "My share links"."""

    link: ShareLink
    reason: ClosedReason | None

    @property
    def is_open(self) -> bool:
        return self.reason is None

    @property
    def status(self) -> Any:
        if self.reason is None:
            return _("open")
        return CLOSED_REASONS[self.reason]


def share_links_for(user: Any) -> list[LinkRow]:
    """The links ``user`` may manage, newest first, each with its state right now."""
    links = share_link_policy.filter_manageable(
        user, ShareLink.objects.select_related("organization", "item", "created_by")
    )
    return [LinkRow(link, share_link_policy.closed_reason(link)) for link in links]


def share_available(*, user: Any, item: Any) -> bool:
    """Show "Share with a customer" on ``item``?"""
    if principal_for(user).organization is None:
        return False
    return share_link_policy.can_create(user, item)
