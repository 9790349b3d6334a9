"""Share links (sharing): who may create and manage them, and whether one still works.

A share link lends its creator's entitlement to whoever holds the link, so it works exactly as
long as the creator could still co-brand the item for the link's organisation, and no longer:
``is_open`` is asked on every request of the customer page and the download, never cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from wagtail.models import Page

from ..models import Membership, PartnerOrganization
from .cobranding import cobrand_policy
from .principal import principal_for

if TYPE_CHECKING:
    from .principal import UserLike

_QS = TypeVar("_QS", bound="QuerySet[Any]")

# Why a link no longer works, for the partner's list (the customer never sees a reason).
ClosedReason = Literal[
    "revoked",
    "expired",
    "organization_suspended",
    "creator_inactive",
    "creator_left",
    "not_cobrandable",
    "not_entitled",
]


class LinkLike(Protocol):
    """What the policy reads of a share link (sharing.models.ShareLink)."""

    organization_id: int
    created_by_id: int | None
    revoked_at: datetime | None
    expires_at: datetime

    @property
    def organization(self) -> PartnerOrganization: ...

    @property
    def item(self) -> Page: ...

    @property
    def created_by(self) -> Any: ...


def _co_brandable(item: Page) -> bool:
    """The item is a co-brandable asset (kb.MarketingAssetPage.co_brandable), read by duck type:
    permissions sits below kb and does not import it."""
    return bool(getattr(item.specific, "co_brandable", False))


def _is_partner_admin(user: UserLike, organization: PartnerOrganization) -> bool:
    if user.pk is None:
        return False
    return Membership.objects.filter(
        user_id=int(user.pk), organization_id=organization.pk, role=Membership.Role.ADMIN
    ).exists()


class ShareLinkPolicy:
    """Share links of co-branded assets.

    * create: a partner of an active organisation, on an item they may co-brand for it;
    * manage (see in "My share links", revoke): the link's creator and the partner admins of the
      link's organisation, while they are members of it and it is active. Nobody else: not
      other members of the organisation, not other organisations, not staff;
    * open: see ``closed_reason``.
    """

    def can_create(self, user: UserLike | None, item: Page) -> bool:
        """May ``user`` share ``item`` (co-branded for their own organisation) with customers?"""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None:
            return False
        if not _co_brandable(item):
            return False
        return cobrand_policy.can_cobrand(user, item, principal.organization)

    def can_list(self, user: UserLike | None) -> bool:
        """May ``user`` have a "My share links" page (a partner of an active organisation)?"""
        principal = principal_for(user)
        return principal.kind == "partner" and principal.organization is not None

    def can_manage(self, user: UserLike | None, link: LinkLike) -> bool:
        """May ``user`` see ``link`` in their list and revoke it?"""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None or user is None:
            return False
        if principal.organization.pk != link.organization_id:
            return False
        if link.created_by_id is not None and link.created_by_id == user.pk:
            return True
        return _is_partner_admin(user, principal.organization)

    def filter_manageable(self, user: UserLike | None, queryset: _QS) -> _QS:
        """The links of ``queryset`` (ShareLink rows) ``user`` may manage: a partner admin's
        organisation's links, a member's own ones, nothing for anyone else."""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None or user is None:
            return queryset.none()
        mine = queryset.filter(organization_id=principal.organization.pk)
        if _is_partner_admin(user, principal.organization):
            return mine
        return mine.filter(created_by_id=user.pk)

    def closed_reason(self, link: LinkLike, now: datetime | None = None) -> ClosedReason | None:
        """Why ``link`` no longer works, or None while it does.

        Open means all of: not revoked; ``now`` before its expiry; its organisation active; its
        creator's account still there and active, still a member of that organisation; the item
        still co-brandable and the creator still allowed to co-brand it for the organisation
        (``cobrand_policy.can_cobrand``, which asks ``page_policy.can_view``: the item live,
        inside its go-live/expiry window and the creator in its audience). Read from the database
        on each call: a change closes the link at the next request.
        """
        now = now or timezone.now()
        if link.revoked_at is not None:
            return "revoked"
        if now >= link.expires_at:
            return "expired"
        return self._entitlement_reason(link)

    def closed_reasons(
        self, links: Iterable[LinkLike], now: datetime | None = None
    ) -> list[ClosedReason | None]:
        """``closed_reason`` of each of ``links`` (a partner's list), the entitlement asked once
        per (organisation, creator, item) instead of once per link. Nothing is kept after."""
        now = now or timezone.now()
        entitlement: dict[tuple[int, int | None, int], ClosedReason | None] = {}
        reasons: list[ClosedReason | None] = []
        for link in links:
            if link.revoked_at is not None:
                reasons.append("revoked")
            elif now >= link.expires_at:
                reasons.append("expired")
            else:
                key = (link.organization_id, link.created_by_id, link.item.pk)
                if key not in entitlement:
                    entitlement[key] = self._entitlement_reason(link)
                reasons.append(entitlement[key])
        return reasons

    def _entitlement_reason(self, link: LinkLike) -> ClosedReason | None:
        """What the link borrows from its creator: still there?"""
        organization = link.organization
        if not organization.is_active:
            return "organization_suspended"
        creator = link.created_by
        if creator is None or not creator.is_active:
            return "creator_inactive"
        principal = principal_for(creator)
        if principal.organization is None or principal.organization.pk != organization.pk:
            return "creator_left"
        if not _co_brandable(link.item):
            return "not_cobrandable"
        if not cobrand_policy.can_cobrand(creator, link.item, organization):
            return "not_entitled"
        return None

    def can_use_master(self, link: LinkLike, document: object | None) -> bool:
        """May ``link`` hand out a render of this master DOCUMENT version (None: an image)? The
        creator's version rule (``cobrand_policy.can_use_master``): a deleted or expired version
        is withdrawn for the link too."""
        return cobrand_policy.can_use_master(link.created_by, document)

    def is_open(self, link: LinkLike, now: datetime | None = None) -> bool:
        """Does ``link`` work right now (for anyone holding it)? See ``closed_reason``."""
        return self.closed_reason(link, now) is None


share_link_policy = ShareLinkPolicy()
