"""Record index updates when content or its audience changes. Handlers write a row to the search
outbox inside the transaction of the change (search/outbox.py), so the update is durable exactly
when the change commits; one drain task is enqueued after the commit and does the work
(search/tasks.py).

What changes what (the audience of an item depends on every node of its chain):
publish / unpublish / move of a page, its compiled audience, a grant or exception on it → the
page's subtree; a product or a product translation saved (renamed, translated) → its live items
(their product text, search/documents.py); a deleted item → removed; audiences re-derived in
bulk (the permissions tasks run after a move, a tier's rank or a region's parent changed) → that
subtree, or everything.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move


def _schedule(*, root: int | None = None, removed: int | None = None, everything=False) -> None:
    from .models import IndexOutbox
    from .outbox import outbox_add

    # No try/except around the writes: the row belongs to the change's transaction, and a
    # change whose index update cannot be recorded must not commit without it.
    if everything:
        outbox_add(kind=IndexOutbox.Kind.EVERYTHING)
    if root is not None:
        outbox_add(kind=IndexOutbox.Kind.SUBTREE, page_id=root)
    if removed is not None:
        outbox_add(kind=IndexOutbox.Kind.REMOVE, page_id=removed)


def _page_changed(sender, instance, **kwargs):
    from permissions.models import AudienceMixin

    if isinstance(instance, AudienceMixin):
        _schedule(root=instance.pk)


def _page_moved(sender, instance, **kwargs):
    _schedule(root=instance.pk)


def _audience_saved(sender, instance, **kwargs):
    _schedule(root=instance.page_id)


def _permission_changed(sender, instance, **kwargs):
    _schedule(root=instance.content_object_id)


def _product_saved(sender, instance, raw=False, **kwargs):
    from kb.models import PortalItemPage

    if raw:  # loaddata
        return
    # By key: items point at the source product, and its translations carry the same key.
    items = PortalItemPage.objects.filter(product__key=instance.key, live=True)
    for item_id in items.values_list("pk", flat=True):
        _schedule(root=item_id)


def _item_deleted(sender, instance, **kwargs):
    _schedule(removed=instance.pk)


def _audiences_recomputed(sender, root_page_id=None, **kwargs):
    if root_page_id is None:
        _schedule(everything=True)
    else:
        _schedule(root=root_page_id)


def register_signal_handlers() -> None:
    from kb.models import PortalItemPage, Product
    from permissions.models import PageAudience, PageGroupObjectPermission
    from permissions.signals import audience_recomputed

    page_published.connect(_page_changed, dispatch_uid="search-published")
    page_unpublished.connect(_page_changed, dispatch_uid="search-unpublished")
    post_page_move.connect(_page_moved, dispatch_uid="search-moved")
    post_save.connect(_audience_saved, sender=PageAudience, dispatch_uid="search-audience")
    for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
        signal.connect(
            _permission_changed,
            sender=PageGroupObjectPermission,
            dispatch_uid=f"search-permission-{name}",
        )
    post_delete.connect(_item_deleted, sender=PortalItemPage, dispatch_uid="search-item-deleted")
    post_save.connect(_product_saved, sender=Product, dispatch_uid="search-product-saved")
    audience_recomputed.connect(_audiences_recomputed, dispatch_uid="search-audiences-recomputed")
