"""Background work of the digest app (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from .services import digest_send_due


@task()
def digest_send_due_task() -> int:
    """Send the digests that are due now (``digest.services.digest_send_due``; idempotent).
    Returns how many e-mails were sent."""
    return digest_send_due().sent
