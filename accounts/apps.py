from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    # The default config of "accounts" (this module holds two: Django picks this one).
    default = True
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()


class PortalWagtailUsersConfig(WagtailUsersAppConfig):
    """wagtail.users, with the user viewset that edits the portal's profile fields."""

    user_viewset = "accounts.viewsets.UserViewSet"
