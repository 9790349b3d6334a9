from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LocalizationConfig(AppConfig):
    name = "localization"
    verbose_name = _("Localization workflows")

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()

        from . import task_hooks

        task_hooks.register()
