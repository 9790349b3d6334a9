from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalSearchConfig(AppConfig):
    name = "search"
    label = "portal_search"
    verbose_name = _("Portal search")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
