"""Template helpers of the admin's audience panels."""

from dataclasses import asdict
from typing import Any

from django import template

from ..selectors import AccessDelta, access_change_text

register = template.Library()


@register.filter(name="access_change_text")
def access_change_text_filter(change: AccessDelta | dict[str, Any]) -> str:
    """An access change (a pending AccessDelta or a logged change) as readable text."""
    if isinstance(change, AccessDelta):
        change = {**asdict(change), "organization": change.organization_name}
    return access_change_text(change)
