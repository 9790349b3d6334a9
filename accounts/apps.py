from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")


class PortalWagtailUsersConfig(WagtailUsersAppConfig):
    """wagtail.users, with the user viewset that edits the portal's profile fields."""

    user_viewset = "accounts.viewsets.UserViewSet"
