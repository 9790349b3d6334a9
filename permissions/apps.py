from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Partners and access")

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
        post_migrate.connect(_adopt_translations, sender=self)


def _adopt_translations(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """Translations compiled by an earlier release (before they shared their source's
    audience) are recompiled once the schema is current; a no-op afterwards."""
    from wagtail.models import Locale

    from .services import audience_translations_adopt

    if Locale.objects.using(using).exists():
        audience_translations_adopt()
