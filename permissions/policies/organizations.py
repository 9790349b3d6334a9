"""Organisations: who may manage an organisation's brand kit and members on the portal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..models import Membership, PartnerOrganization
from .principal import principal_for

if TYPE_CHECKING:
    from .principal import UserLike


class OrganizationOwned(Protocol):
    """Anything that belongs to one organisation (a membership, an invitation)."""

    @property
    def organization_id(self) -> int: ...


class OrganizationPolicy:
    """The portal's organisation page: a partner admin of an ACTIVE organisation manages that
    organisation (brand kit, members, invitations) and no other.

    Members without the admin role, staff (they manage organisations in the Wagtail admin),
    admins of a suspended organisation and anonymous visitors: never. Callers answer 404 when
    this says no, so the page's existence does not leak.
    """

    def managed_organization(self, user: UserLike | None) -> PartnerOrganization | None:
        """The organisation ``user`` may manage, or None."""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None or user is None:
            return None
        if not user.is_active:
            return None
        is_admin = Membership.objects.filter(
            user_id=user.pk, organization_id=principal.organization.pk, role=Membership.Role.ADMIN
        ).exists()
        if not is_admin:
            return None
        return PartnerOrganization.objects.select_related("region", "tier").get(
            pk=principal.organization.pk
        )

    def manages_an_organization(self, user: UserLike | None) -> bool:
        """Does ``user`` manage an organisation (``managed_organization`` is not None)? Answered
        from the principal, without a query: for the "Organisation" link on every page."""
        principal = principal_for(user)
        return (
            principal.kind == "partner"
            and principal.organization is not None
            and principal.organization_admin
        )

    def can_manage(self, user: UserLike | None, organization: PartnerOrganization) -> bool:
        """May ``user`` edit ``organization``'s brand kit and members?"""
        managed = self.managed_organization(user)
        return managed is not None and managed.pk == organization.pk

    def can_manage_object(self, user: UserLike | None, obj: OrganizationOwned) -> bool:
        """May ``user`` change ``obj`` (a membership or an invitation of an organisation)?"""
        managed = self.managed_organization(user)
        return managed is not None and managed.pk == obj.organization_id


organization_policy = OrganizationPolicy()
