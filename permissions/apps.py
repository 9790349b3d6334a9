from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Partners and access"

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
