"""Co-branding: renders of items with an organisation's brand kit, and the brand kit's logo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from wagtail.models import Page

from ..models import PartnerOrganization
from .pages import page_policy
from .principal import principal_for

if TYPE_CHECKING:
    from .principal import UserLike


class RenderLike(Protocol):
    """What the policy reads of a co-brand render (cobranding.models.CobrandRender)."""

    @property
    def item(self) -> Page: ...

    @property
    def organization(self) -> PartnerOrganization: ...


class BrandKitPolicy:
    """An organisation's brand-kit files (its logo): that organisation's members while it is
    active, and staff who may edit organisations (they manage brand kits in the admin).
    Never other organisations, never anonymous visitors, never through ``/media/``."""

    def can_view_logo(self, user: UserLike | None, organization: PartnerOrganization) -> bool:
        principal = principal_for(user)
        if principal.kind == "partner" and principal.organization is not None:
            return principal.organization.pk == organization.pk
        if principal.kind == "staff":  # a signed-in user, so not None
            return user is not None and user.has_perm("permissions.change_partnerorganization")
        return False


class CobrandPolicy:
    """Co-brand renders (cobranding): a partner of an active organisation, only for that
    organisation, only of an item they may see. Staff and other organisations: never (a render
    carries one organisation's brand kit and is that organisation's file)."""

    def can_cobrand(
        self, user: UserLike | None, item: Page, organization: PartnerOrganization
    ) -> bool:
        """May ``user`` have ``item`` co-branded for ``organization``?"""
        principal = principal_for(user)
        if principal.kind != "partner" or principal.organization is None:
            return False
        if principal.organization.pk != organization.pk:
            return False
        return page_policy.can_view(user, item)

    def can_download(self, user: UserLike | None, render: RenderLike) -> bool:
        """May ``user`` download ``render`` (a cobranding CobrandRender)?"""
        return self.can_cobrand(user, render.item, render.organization)


brandkit_policy = BrandKitPolicy()
cobrand_policy = CobrandPolicy()
