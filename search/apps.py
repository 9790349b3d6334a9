from django.apps import AppConfig


class PortalSearchConfig(AppConfig):
    name = "search"
    label = "portal_search"
    verbose_name = "Portal search"
