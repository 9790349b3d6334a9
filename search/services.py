"""Writes to the search indexes: keeping every backend of the chain in step with the content.

Called by the outbox drain (search/outbox.py), the tasks and the rebuild command. Every write
goes to every backend in ``PORTAL_SEARCH_BACKENDS``' chain (search/backends/__init__.py), so a
fallback answers from current data. The read side (the portal's search call) is
``search.selectors``.
"""

from __future__ import annotations

import logging

from django.db.models import Q
from wagtail.models import Page

from .backends import search_chain
from .backends.base import BaseSearchBackend
from .documents import build_documents, iter_documents

logger = logging.getLogger("portal.search")


def index_backends() -> list[BaseSearchBackend]:
    """The backends every index write goes to (the whole search chain)."""
    return search_chain()


def items_below(root_ids: list[int]):
    """PortalItemPages at or below the pages ``root_ids`` (a subtree's audience is inherited)."""
    from kb.models import PortalItemPage

    roots = list(Page.objects.filter(pk__in=root_ids).values_list("path", flat=True))
    if not roots:
        return PortalItemPage.objects.none()
    scope = Q()
    for path in roots:
        scope |= Q(path__startswith=path)
    return PortalItemPage.objects.filter(scope)


def index_subtrees(root_ids: list[int], *, batch_size: int = 200) -> int:
    """(Re)index every item at or below ``root_ids``; items no longer live leave the index."""
    from kb.models import PortalItemPage

    ids = list(items_below(root_ids).order_by("pk").values_list("pk", flat=True))
    gone = set(root_ids) - set(Page.objects.filter(pk__in=root_ids).values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        pages = list(
            PortalItemPage.objects.filter(pk__in=ids[start : start + batch_size])
            .select_related("product", "locale")
            .specific()
        )
        docs = build_documents(pages)
        indexed = {d.id for d in docs}
        gone |= {p.pk for p in pages if p.pk not in indexed}
        for backend in index_backends():
            backend.bulk(docs)
        done += len(docs)
    for item_id in gone:
        remove_item(item_id)
    return done


def remove_item(item_id: int) -> None:
    """Remove the item ``item_id`` from every index."""
    for backend in index_backends():
        backend.delete(item_id)


def index_rebuild(*, with_files: bool = True) -> list[tuple[BaseSearchBackend, int]]:
    """Replace every index of the chain with the current content (a tier rank or the region
    tree changed). Returns (backend, documents indexed) per backend."""
    return [
        (backend, backend.rebuild(iter_documents(with_files=with_files)))
        for backend in index_backends()
    ]
