"""Periodic jobs about pages (registered in kb.apps; run by every worker: docs/scheduling.md)."""

from __future__ import annotations

import io

from django.core.management import call_command


def pages_publish_scheduled() -> None:
    """Apply Wagtail's scheduled publishing: publish the approved revisions whose go-live time
    has passed and unpublish the pages (and other draft-state objects) whose expiry has passed.

    Wagtail's own ``publish_scheduled`` command does it (its selection and its actions, logged as
    ``wagtail.publish.scheduled`` / ``wagtail.unpublish.scheduled``), so publishing sends
    ``page_published`` / ``page_unpublished`` as an editor's publish does: audiences are
    compiled, translations follow their source, the search outbox is fed. Partners stop seeing an
    expired page before this runs: the policy's queries compare the compiled expiry with the
    time (permissions.policies.pages).
    """
    call_command("publish_scheduled", stdout=io.StringIO())
