"""Translation tasks follow the pages, workflows and files they are about.

Every handler only notes which translation groups changed; once the transaction commits, one
``translation_tasks_refresh`` brings their tasks (and today's coverage snapshot) up to date, so
an import that touches a hundred rows refreshes each group once.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import transaction

_pending = threading.local()


def _noted() -> tuple[set[int], set[Any]]:
    if not hasattr(_pending, "page_ids"):
        _pending.page_ids, _pending.keys = set(), set()
    return _pending.page_ids, _pending.keys


def note_page(page_id: int | None = None, translation_key: Any = None) -> None:
    """Refresh the tasks of this page's translation group after the commit."""
    page_ids, keys = _noted()
    if page_id is not None:
        page_ids.add(int(page_id))
    if translation_key is not None:
        keys.add(translation_key)
    # robust: a failed refresh is logged, never turned into an error of the committed request
    # (``manage.py translation_tasks_refresh`` repairs the tasks).
    transaction.on_commit(flush, robust=True)


def flush() -> None:
    """Refresh what was noted (the first callback of a transaction does it; the rest find
    nothing left)."""
    page_ids, keys = _noted()
    if not page_ids and not keys:
        return
    ids, wanted = set(page_ids), set(keys)
    page_ids.clear()
    keys.clear()
    from wagtail.models import Page

    from .services import translation_tasks_refresh

    if ids:
        wanted |= set(Page.objects.filter(pk__in=ids).values_list("translation_key", flat=True))
    translation_tasks_refresh(translation_keys=wanted)


def _is_item(model: Any) -> bool:
    from kb.models import PortalItemPage

    return isinstance(model, type) and issubclass(model, PortalItemPage)


def page_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Published, unpublished or deleted item page (source or translation)."""
    if _is_item(type(instance)):
        note_page(translation_key=instance.translation_key)


def _model_of(content_type_id: int | None) -> Any:
    from django.contrib.contenttypes.models import ContentType

    if content_type_id is None:
        return None
    return ContentType.objects.get_for_id(content_type_id).model_class()  # cached


def revision_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A new draft of an item page: its translation task may be in progress now."""
    if _is_item(_model_of(instance.content_type_id)):
        note_page(page_id=int(instance.object_id))


def workflow_state_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Submitted, approved, rejected or cancelled: in review or not."""
    if _is_item(_model_of(instance.content_type_id)):
        note_page(page_id=int(instance.object_id))


def attachment_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A master's file replaced (localized files of it may be out of date now), or a localized
    file added, confirmed or removed."""
    note_page(page_id=instance.page_id)


def document_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A document's file replaced in place (Wagtail's document edit): the items it is the
    master file of may have out-of-date localized files now."""
    from kb.models import ItemAttachment

    update_fields = kwargs.get("update_fields")
    if kwargs.get("created") or (update_fields is not None and "file" not in update_fields):
        return
    masters = ItemAttachment.objects.filter(document_id=instance.pk, localized__isnull=False)
    for page_id in masters.values_list("page_id", flat=True).distinct():
        note_page(page_id=page_id)


def register_signal_handlers() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.models import Revision, WorkflowState
    from wagtail.signals import page_published, page_unpublished

    from files.models import PortalDocument
    from kb.models import ItemAttachment

    uid = "localization.tasks."
    page_published.connect(page_changed, dispatch_uid=uid + "published")
    page_unpublished.connect(page_changed, dispatch_uid=uid + "unpublished")
    # Any sender: a deleted item arrives as its specific class (and its parents' rows).
    post_delete.connect(page_changed, dispatch_uid=uid + "page_deleted")
    post_save.connect(revision_saved, sender=Revision, dispatch_uid=uid + "revision")
    post_save.connect(workflow_state_saved, sender=WorkflowState, dispatch_uid=uid + "workflow")
    post_save.connect(attachment_changed, sender=ItemAttachment, dispatch_uid=uid + "att_save")
    post_delete.connect(attachment_changed, sender=ItemAttachment, dispatch_uid=uid + "att_del")
    post_save.connect(document_saved, sender=PortalDocument, dispatch_uid=uid + "document")
