"""Signals the entitlement model sends (receivers: search keeps its index in step)."""

from django.dispatch import Signal

#: Sent after compiled audiences were re-derived in bulk (by a task, see permissions/tasks.py),
#: with ``root_page_id``: the page whose subtree changed, or None when every page may have.
audience_recomputed = Signal()
