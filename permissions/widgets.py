"""Admin widgets of the partner models."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse


class _LinkedFile:
    """A stored file shown by its name, linked to a policy-checked view instead of /media/."""

    def __init__(self, value: object, url: str) -> None:
        self.value = value
        self.url = url

    def __str__(self) -> str:
        return str(self.value)


class BrandKitLogoInput(forms.ClearableFileInput):
    """The logo field of an organisation: "Currently: <name>" links to the brand-kit logo view
    (kb.views.brandkit_logo, checked by BrandKitPolicy); /media/ never serves logos."""

    def format_value(self, value: Any) -> Any:
        value = super().format_value(value)
        instance = getattr(value, "instance", None)
        if value and instance is not None and instance.pk:
            return _LinkedFile(value, reverse("cobranding:brandkit_logo", args=[instance.pk]))
        return value
