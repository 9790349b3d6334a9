"""Background work of permissions (django-tasks): re-deriving compiled audiences in bulk.

The signal handlers (permissions/signal_handlers.py) enqueue these instead of recomputing a
whole subtree, or every page, inside the request that moved a page or changed a tier's rank or
a region's parent. Each task announces what it re-derived (``signals.audience_recomputed``) so
the search index follows the new audiences, not the ones before the recomputation.
"""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger("portal.permissions")


@task()
def audience_recompute_all_task() -> int:
    """Re-derive every compiled audience; returns the number of pages."""
    from .models import PageAudience
    from .services import audience_recompute_all
    from .signals import audience_recomputed

    count = audience_recompute_all()
    audience_recomputed.send(sender=PageAudience, root_page_id=None)
    return count


@task()
def audience_recompute_subtree_task(page_id: int) -> bool:
    """Re-derive the compiled audiences of a page and its subtree (after a move); False if the
    page is gone by the time the task runs (its rows went with it)."""
    from wagtail.models import Page

    from .models import PageAudience
    from .services import audience_recompute_subtree
    from .signals import audience_recomputed

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        logger.info("page %s was deleted before its audiences were re-derived", page_id)
        return False
    audience_recompute_subtree(page=page)
    audience_recomputed.send(sender=PageAudience, root_page_id=page_id)
    return True
