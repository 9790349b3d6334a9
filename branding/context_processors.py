"""``brand`` in every template context: read only when a template uses it (SimpleLazyObject)."""

from django.utils.functional import SimpleLazyObject

from .models import brand_for


def brand(request) -> dict:
    """Context processor: the portal's brand setting (branding.models.BrandSettings)."""
    return {"brand": SimpleLazyObject(lambda: brand_for(request))}
