from django.apps import AppConfig


class CobrandingConfig(AppConfig):
    name = "cobranding"
    verbose_name = "Co-branding"
