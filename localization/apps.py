from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "localization"
    verbose_name = "Localization workflows"

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()

        from . import task_hooks

        task_hooks.register()
