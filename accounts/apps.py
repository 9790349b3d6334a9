from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"


class PortalWagtailUsersConfig(WagtailUsersAppConfig):
    """wagtail.users, with the user viewset that edits the portal's profile fields."""

    user_viewset = "accounts.viewsets.UserViewSet"
