"""Reads of the translation workflows."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wagtail.models import Locale

from .models import MarketerScope
from .services import MARKETER_GROUP_FORMAT

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    from permissions.models import Region

_GROUP_RE = re.compile(
    "^"
    + re.escape(MARKETER_GROUP_FORMAT).replace(re.escape("{code}"), "(?P<code>[a-z0-9-]+)")
    + "$"
)


def marketer_locales(*, user: AbstractUser) -> list[Locale]:
    """The locales ``user`` is a regional marketer of (by language code; empty if none)."""
    if not user.is_authenticated:
        return []
    codes = [
        match.group("code")
        for name in user.groups.values_list("name", flat=True)
        if (match := _GROUP_RE.match(name))
    ]
    return list(Locale.objects.filter(language_code__in=codes).order_by("language_code"))


def marketer_regions(*, user: AbstractUser) -> list[Region]:
    """The regions a marketer works for; empty means every region."""
    scope = MarketerScope.objects.filter(user_id=user.pk).first()
    return list(scope.regions.all()) if scope is not None else []
