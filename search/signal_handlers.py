"""Enqueue indexing when content or its audience changes. Handlers only collect page ids and
enqueue one task when the transaction commits; the work happens in search/tasks.py.

What changes what (the audience of an item depends on every node of its chain):
publish / unpublish / move of a page, its compiled audience, a grant or exception on it → the
page's subtree; a deleted item → removed; a tier's rank or a region's parent → everything.
"""

from __future__ import annotations

import logging
import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move

logger = logging.getLogger("portal.search")
_pending = threading.local()


def _enqueue_on_commit() -> None:
    from .tasks import index_subtrees_task, reindex_all_task, remove_items_task

    if not hasattr(_pending, "roots"):
        return
    roots = sorted(_pending.roots)
    removed = sorted(_pending.removed)
    everything = _pending.everything
    _pending.roots, _pending.removed, _pending.everything = set(), set(), False
    try:
        if everything:
            reindex_all_task.enqueue()
        elif roots:
            index_subtrees_task.enqueue(roots)
        if removed:
            remove_items_task.enqueue(removed)
    except Exception:  # noqa: BLE001 - a broken queue must not break the content change
        logger.exception("could not enqueue search indexing")


def _schedule(*, root: int | None = None, removed: int | None = None, everything=False) -> None:
    if not hasattr(_pending, "roots"):
        _pending.roots, _pending.removed, _pending.everything = set(), set(), False
    if root is not None:
        _pending.roots.add(root)
    if removed is not None:
        _pending.removed.add(removed)
    _pending.everything = _pending.everything or everything
    # The first callback to run after commit enqueues everything pending; later ones find
    # nothing left (ids left over from a rolled-back transaction only cost an extra reindex).
    transaction.on_commit(_enqueue_on_commit)


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


def _item_deleted(sender, instance, **kwargs):
    _schedule(removed=instance.pk)


def _definitions_changed(sender, instance, created, **kwargs):
    current = instance.rank if hasattr(instance, "rank") else instance.parent_id
    if not created and getattr(instance, "_previous_value", current) != current:
        _schedule(everything=True)


def register_signal_handlers() -> None:
    from kb.models import PortalItemPage
    from permissions.models import PageAudience, PageGroupObjectPermission, Region, Tier

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
    for model in (Tier, Region):
        post_save.connect(
            _definitions_changed, sender=model, dispatch_uid=f"search-defs-{model.__name__}"
        )
