"""Background indexing (django-tasks). Failures are logged and retried; they never propagate to
the publish, move or permission change that enqueued them.

``drain_outbox_task`` is what content changes enqueue (search/outbox.py). The three older tasks
are no longer enqueued by the portal; they stay so that tasks queued by an earlier release (rows
in the database worker's queue) still run after an upgrade."""

from __future__ import annotations

import logging
import time

from django_tasks import task

logger = logging.getLogger("portal.search")

ATTEMPTS = 3


def _with_retries(what: str, function, *args) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            function(*args)
            return True
        except Exception:  # noqa: BLE001 - indexing may fail; the content change must not
            if attempt == ATTEMPTS:
                logger.exception(
                    "search indexing failed (%s), gave up after %s tries", what, attempt
                )
                return False
            logger.warning("search indexing failed (%s), retrying", what, exc_info=True)
            time.sleep(0.2 * attempt)
    return False


@task()
def drain_outbox_task() -> dict:
    """Apply the search outbox (search.outbox.outbox_drain); failed rows are retried later."""
    from .outbox import outbox_drain

    report = outbox_drain()
    return {"applied": report.applied, "failed": report.failed}


@task()
def index_subtrees_task(root_ids: list[int]) -> bool:
    from .services import index_subtrees

    return _with_retries(f"subtrees {root_ids}", index_subtrees, root_ids)


@task()
def remove_items_task(item_ids: list[int]) -> bool:
    from .services import remove_item

    def remove_all(ids):
        for item_id in ids:
            remove_item(item_id)

    return _with_retries(f"remove {item_ids}", remove_all, item_ids)


@task()
def reindex_all_task() -> bool:
    from .services import index_rebuild

    return _with_retries("rebuild", index_rebuild)
