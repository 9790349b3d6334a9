"""Reads for share links: by token (the customer's request), the partner's list, the action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from permissions.policies.principal import principal_for
from permissions.policies.sharing import ClosedReason, share_link_policy

from . import renders
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
    "master_withdrawn": _("closed: the item's file is withdrawn"),
    "not_cobrandable_master": _("closed: the item has no file to co-brand"),
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
    reason: ClosedReason | str | None

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
    links = list(
        share_link_policy.filter_manageable(
            user, ShareLink.objects.select_related("organization", "item", "created_by")
        )
    )
    reasons = share_link_policy.closed_reasons(links)
    # An open link also needs a master the creator may still have (what the customer's request
    # checks before serving): asked once per (creator, item).
    masters: dict[tuple[int | None, int], str | None] = {}
    rows = []
    for link, closed in zip(links, reasons, strict=True):
        reason: str | None = closed
        if reason is None:
            key = (link.created_by_id, link.item_id)
            if key not in masters:
                masters[key] = _master_reason(link)
            reason = masters[key]
        rows.append(LinkRow(link, reason))
    return rows


def _master_reason(link: ShareLink) -> str | None:
    try:
        document = renders.master_document(link.item)
    except renders.NotCobrandable:
        return "not_cobrandable_master"
    if not share_link_policy.can_use_master(link, document):
        return "master_withdrawn"
    return None


def share_available(*, user: Any, item: Any) -> bool:
    """Show "Share with a customer" on ``item``?"""
    if principal_for(user).organization is None:
        return False
    return share_link_policy.can_create(user, item)
