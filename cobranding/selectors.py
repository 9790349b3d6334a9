"""Reads for co-branding pages."""

from __future__ import annotations

from permissions.policies.cobranding import cobrand_policy
from permissions.policies.principal import principal_for

from .services import cobrand_source


def cobrand_available(*, user, item) -> bool:
    """Show the "Co-brand" button? The item has a master image to co-brand and the policy lets
    ``user`` co-brand it for their own organisation."""
    organization = principal_for(user).organization
    if organization is None or cobrand_source(item) is None:
        return False
    return cobrand_policy.can_cobrand(user, item, organization)
