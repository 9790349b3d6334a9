"""kb side effects: a published item's files move to their residency bucket (in a task)."""

from __future__ import annotations

from django.conf import settings


def place_item_files(sender, instance, **kwargs) -> None:
    """On publish, enqueue moving the item's files to their residency bucket (if a map is set)."""
    from .models import PortalItemPage

    if settings.PORTAL_STORAGE_REGIONS and isinstance(instance, PortalItemPage):
        from .tasks import item_files_place

        item_files_place.enqueue(page_id=instance.pk)


def register_signal_handlers() -> None:
    from wagtail.signals import page_published

    page_published.connect(place_item_files, dispatch_uid="kb.place_item_files")
