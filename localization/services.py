"""Translation workflow services (wagtail-localize); the regional-marketer flows build on these."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from wagtail.models import Locale


@transaction.atomic
def locales_ensure() -> list[Locale]:
    """Create a Locale for every configured content language (idempotent)."""
    return [
        Locale.objects.get_or_create(language_code=code)[0]
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]
