from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
