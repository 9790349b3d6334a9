from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Partners and access")

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
