"""Reads for co-branding pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from permissions.policies.cobranding import cobrand_policy
from permissions.policies.principal import principal_for

from .models import CobrandRender
from .services import NotCobrandable, cobrand_master, render_key

if TYPE_CHECKING:
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization


def cobrand_available(*, user, item) -> bool:
    """Show the "Co-brand" button? The item has a master to co-brand and the policy lets
    ``user`` co-brand it for their own organisation."""
    organization = principal_for(user).organization
    if organization is None or not cobrand_policy.can_cobrand(user, item, organization):
        return False
    try:
        master = cobrand_master(item)
    except NotCobrandable:
        return False
    return cobrand_policy.can_use_master(user, master.file if master.kind == "document" else None)


def cobrand_render_current(
    item: PortalItemPage, organization: PartnerOrganization
) -> CobrandRender | None:
    """The render ``item`` has for ``organization`` from the CURRENT sources (any status), or
    None (never asked, or its sources changed since). No side effects; no policy check."""
    try:
        master = cobrand_master(item)
    except NotCobrandable:
        return None
    return (
        CobrandRender.objects.select_related("organization", "item")
        .filter(**render_key(item, organization, master))
        .first()
    )
