from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
        _stop_reference_index_tasks_for_attachments()
        _register_scheduled_jobs()


def _register_scheduled_jobs() -> None:
    """Periodic jobs about pages, run by every task worker (docs/scheduling.md)."""
    from datetime import timedelta

    from scheduling.registry import job_register

    from .scheduled import pages_publish_scheduled

    job_register("pages.publish_scheduled", timedelta(minutes=1), pages_publish_scheduled)


def _stop_reference_index_tasks_for_attachments() -> None:
    """Wagtail tracks ItemAttachment for its reference index (other rows point at it: a
    localized file's ``master``) and queues an index task after every save, although an
    attachment is never indexed on its own (its page collects its references). A translation's
    copied attachments are deleted in the transaction that made them, so those tasks ran on rows
    that no longer exist and failed in the worker. Deletes still clean the index."""
    from django.db.models.signals import pre_save

    from .models import ItemAttachment

    # Wagtail connects its handler in its own ready(), after this app's: it is taken off at the
    # first attachment save, before that save's post_save is sent.
    pre_save.connect(_drop_reference_index_handler, sender=ItemAttachment, weak=False)


def _drop_reference_index_handler(sender: type, **kwargs: object) -> None:
    from django.db.models.signals import post_save
    from wagtail.signal_handlers import update_reference_index_on_save

    post_save.disconnect(update_reference_index_on_save, sender=sender)
