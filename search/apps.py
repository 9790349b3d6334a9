from django.apps import AppConfig


class PortalSearchConfig(AppConfig):
    name = "search"
    label = "portal_search"
    verbose_name = "Portal search"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
