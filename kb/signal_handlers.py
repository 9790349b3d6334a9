"""kb side effects: a published item's files move to their residency bucket (in a task)."""

from __future__ import annotations

from django.conf import settings


def place_item_files(sender, instance, **kwargs) -> None:
    """On publish, enqueue moving the item's files to their residency bucket (if a map is set)."""
    from .models import PortalItemPage

    if settings.PORTAL_STORAGE_REGIONS and isinstance(instance, PortalItemPage):
        from .tasks import item_files_place

        item_files_place.enqueue(page_id=instance.pk)


def forget_products(sender, **kwargs) -> None:
    """A product was saved or deleted: the listing's cached product list is stale."""
    from django.core.cache import cache

    from .selectors import PRODUCTS_CACHE_KEY

    cache.delete(PRODUCTS_CACHE_KEY)


def register_signal_handlers() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import page_published

    from .models import Product

    page_published.connect(place_item_files, dispatch_uid="kb.place_item_files")
    post_save.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.save")
    post_delete.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.delete")
