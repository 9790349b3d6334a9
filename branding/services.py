"""Changing the brand outside the admin (the demo seeds one)."""

from __future__ import annotations

from typing import Any

from .models import BrandSettings


def brand_update(**fields: Any) -> BrandSettings:
    """Set the given fields of the brand setting, validated as the admin form validates them
    (a colour failing the contrast check raises ValidationError), and save it."""
    brand = BrandSettings.load()
    for name, value in fields.items():
        setattr(brand, name, value)
    brand.full_clean()
    brand.save()
    return brand
