from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CobrandingConfig(AppConfig):
    name = "cobranding"
    verbose_name = _("Co-branding")
