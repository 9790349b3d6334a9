"""``python manage.py send_digests``: send the digest e-mails that are due now.

Safe to run as often as you like and from several machines at once (each user gets one digest per
slot: digest.services.digest_send_due). The task workers run it periodically once the scheduling
app is in (digest/apps.py); until then run it from cron, e.g. every 15 minutes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from digest.services import digest_send_due


class Command(BaseCommand):
    help = "Send the digest e-mails that are due (idempotent)."

    def handle(self, *args, **options):
        run = digest_send_due()
        self.stdout.write(
            f"{run.sent} sent, {run.empty} with nothing new, {run.skipped} taken by another "
            f"run, {run.failed} failed"
        )
        if run.failed:
            raise CommandError(f"{run.failed} digest(s) failed (logged); retried on the next run")
