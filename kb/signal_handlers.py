"""kb side effects: a published item's files move to their residency bucket (in a task); a new
translation does not inherit copies of its source's files."""

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


def drop_copied_attachments(sender, source_obj, target_obj, **kwargs) -> None:
    """A new translation starts with no files of its own: its readers get the source's files
    (kb.selectors.item_files) until localized files are attached. Wagtail's copy for
    translation copies every child relation, so the copied attachments are removed here, in the
    database and in the copy's unsaved children (wagtail-localize saves the copy again)."""
    from .models import ItemAttachment, PortalItemPage

    if isinstance(target_obj, PortalItemPage) and target_obj.pk is not None:
        ItemAttachment.objects.filter(page_id=target_obj.pk).delete()
        target_obj.attachments.set([])


def register_signal_handlers() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import copy_for_translation_done, page_published

    from .models import Product

    page_published.connect(place_item_files, dispatch_uid="kb.place_item_files")
    copy_for_translation_done.connect(
        drop_copied_attachments, dispatch_uid="kb.drop_copied_attachments"
    )
    post_save.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.save")
    post_delete.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.delete")
