"""kb side effects: a published item's files move to their residency bucket (in a task); a new
translation does not inherit copies of its source's files; a published product sheet's version
enters its history."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


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


def record_sheet_version(sender, instance, revision=None, **kwargs) -> None:
    """Every publish of a product sheet (admin, workflow approval, scheduled publishing, code)
    sends page_published: its version enters the sheet's history here. A revision scheduled for
    later also sends it, with the page not live: recorded when it really goes live."""
    from .models import ProductSheetPage
    from .services import VersionLabelUsed, product_sheet_version_record

    if not isinstance(instance, ProductSheetPage) or not instance.live:
        return
    if revision is not None and instance.live_revision_id != revision.pk:
        return
    try:
        product_sheet_version_record(page=instance, revision=revision)
    except VersionLabelUsed:
        # The admin form refuses a used label; a revision published some other way (an old
        # revision re-published, a direct revision.publish()) keeps the history as it was.
        logger.warning(
            "product sheet %s republished the used label %r: history unchanged",
            instance.pk,
            instance.version_label,
        )


def sheet_version_publisher(sender, instance, created, **kwargs) -> None:
    """page_published carries no user; Wagtail's publish log entry, written right after it,
    does: it names who published the version (the approver, not the revision's author)."""
    from .models import ProductSheetVersion

    if created and instance.action == "wagtail.publish" and instance.revision_id:
        ProductSheetVersion.objects.filter(
            revision_id=instance.revision_id, published_by__isnull=True
        ).update(published_by_id=instance.user_id)


def register_signal_handlers() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.models import Page, PageLogEntry
    from wagtail.signals import (
        copy_for_translation_done,
        page_published,
        page_unpublished,
        post_page_move,
    )

    from permissions.models import PageAudience
    from permissions.signals import audience_recomputed

    from .models import Product
    from .navigation import nav_forget

    # The header's cached counts and the library's tag choices follow content and access.
    for signal in (page_published, page_unpublished, post_page_move, audience_recomputed):
        signal.connect(nav_forget, dispatch_uid=f"kb.nav_forget.{id(signal)}")
    post_delete.connect(nav_forget, sender=Page, dispatch_uid="kb.nav_forget.page_delete")
    for signal in (post_save, post_delete):
        for model in (PageAudience, Product):
            signal.connect(
                nav_forget,
                sender=model,
                dispatch_uid=f"kb.nav_forget.{id(signal)}.{model.__name__}",
            )

    page_published.connect(place_item_files, dispatch_uid="kb.place_item_files")
    page_published.connect(record_sheet_version, dispatch_uid="kb.record_sheet_version")
    post_save.connect(
        sheet_version_publisher, sender=PageLogEntry, dispatch_uid="kb.sheet_version_publisher"
    )
    copy_for_translation_done.connect(
        drop_copied_attachments, dispatch_uid="kb.drop_copied_attachments"
    )
    post_save.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.save")
    post_delete.connect(forget_products, sender=Product, dispatch_uid="kb.forget_products.delete")
