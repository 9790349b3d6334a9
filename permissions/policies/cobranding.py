"""Co-branding: renders of items with an organisation's brand kit, and the brand kit's logo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from wagtail.models import Page

from ..models import PartnerOrganization
from .files import document_policy
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

    @property
    def master_document(self) -> object | None:
        """The document version a PDF render was made from (None for an image master)."""


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

    def can_use_master(self, user: UserLike | None, document: object | None) -> bool:
        """May ``user`` have a render of this master DOCUMENT version (None: an image master)?
        The document rule: a deleted or expired version is withdrawn, co-branded or not."""
        if document is None:
            return True
        return document_policy.can_have_version(user, document)  # type: ignore[arg-type]

    def can_download(self, user: UserLike | None, render: RenderLike) -> bool:
        """May ``user`` download ``render`` (a cobranding CobrandRender), or see its status?"""
        if not self.can_cobrand(user, render.item, render.organization):
            return False
        return self.can_use_master(user, render.master_document)


class CobrandTemplatePolicy:
    """Co-brand templates (zones on a master) in the admin: staff with the model permission
    ``cobranding.change_cobrandtemplate`` (a group in Wagtail's group editor)."""

    def can_edit(self, user: UserLike | None) -> bool:
        if principal_for(user).kind != "staff" or user is None:
            return False
        return bool(user.has_perm("cobranding.change_cobrandtemplate"))


class CobrandIdentifyPolicy:
    """The admin's "Identify a file" (who a co-branded file was made for: personal data):
    staff with ``cobranding.identify_cobrandissue``."""

    def can_identify(self, user: UserLike | None) -> bool:
        if principal_for(user).kind != "staff" or user is None:
            return False
        return bool(user.has_perm("cobranding.identify_cobrandissue"))


brandkit_policy = BrandKitPolicy()
cobrand_policy = CobrandPolicy()
cobrand_template_policy = CobrandTemplatePolicy()
cobrand_identify_policy = CobrandIdentifyPolicy()
