"""The portal's brand: one Wagtail setting (admin: Settings → Brand).

Read by base.html (name, logo, colours, footer links), the public landing, the error pages and
the brand stylesheet (branding.views). Colours are validated hex values on which white text
reaches WCAG AA, so the stylesheet never carries anything but ``#rrggbb``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import RichTextField

from .colors import validate_white_text_contrast

DEFAULT_PRIMARY = "#0d1117"
DEFAULT_ACCENT = "#0a58ca"


def validate_link(value: str) -> None:
    """A footer link: an absolute http(s) URL or a path of this site (``/legal/``). Nothing
    else (no ``javascript:``, no protocol-relative ``//host``)."""
    if value.startswith("/") and not value.startswith("//"):
        return
    if value.startswith(("https://", "http://")) and len(value) > len("https://"):
        return
    raise ValidationError(
        _("Enter an address starting with https:// (or a path of this site starting with /)."),
        code="invalid_link",
    )


@register_setting(icon="image", name="brand")
class BrandSettings(BaseGenericSetting):
    """Name, logo, colours and footer links of the portal (one for the whole portal)."""

    portal_name = models.CharField(
        _("portal name"),
        max_length=80,
        blank=True,
        help_text=_('Shown in the header and page titles. Empty: "Partner Portal".'),
    )
    logo = models.ForeignKey(
        settings.WAGTAILIMAGES_IMAGE_MODEL,
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Shown in the header of every page, also to visitors who are not logged in: "
            "the image becomes public."
        ),
    )
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default=DEFAULT_PRIMARY,
        validators=[validate_white_text_contrast],
        help_text=_("Header background, as #rrggbb; white text on it must reach WCAG AA."),
    )
    accent_color = models.CharField(
        _("accent colour"),
        max_length=7,
        default=DEFAULT_ACCENT,
        validators=[validate_white_text_contrast],
        help_text=_("Links and buttons, as #rrggbb; white text on it must reach WCAG AA."),
    )
    landing_intro = RichTextField(
        _("landing text"),
        blank=True,
        features=["bold", "italic", "link", "ul", "ol"],
        help_text=_(
            "What the portal is, for visitors who are not logged in (the public landing at /). "
            "Empty: a standard text in the visitor's language."
        ),
    )
    legal_url = models.CharField(
        _("legal notice address"), max_length=300, blank=True, validators=[validate_link]
    )
    privacy_url = models.CharField(
        _("privacy policy address"), max_length=300, blank=True, validators=[validate_link]
    )
    support_url = models.CharField(
        _("support address"), max_length=300, blank=True, validators=[validate_link]
    )
    support_email = models.EmailField(_("support e-mail"), blank=True)
    footer_text = models.CharField(
        _("footer text"),
        max_length=200,
        blank=True,
        help_text=_("One line at the bottom of every page, e.g. the company name."),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("portal_name"), FieldPanel("logo"), FieldPanel("landing_intro")],
            heading=_("Identity"),
        ),
        MultiFieldPanel(
            [FieldPanel("primary_color"), FieldPanel("accent_color")], heading=_("Colours")
        ),
        MultiFieldPanel(
            [
                FieldPanel("legal_url"),
                FieldPanel("privacy_url"),
                FieldPanel("support_url"),
                FieldPanel("support_email"),
                FieldPanel("footer_text"),
            ],
            heading=_("Footer"),
        ),
    ]

    class Meta:
        verbose_name = _("Brand")

    @property
    def name(self) -> str:
        """The portal's name: the brand's, else the translated default."""
        return self.portal_name or gettext("Partner Portal")

    @property
    def css_version(self) -> str:
        """Changes whenever the colours change: the brand stylesheet's cache key."""
        return hashlib.sha256(f"{self.primary_color}{self.accent_color}".encode()).hexdigest()[:12]

    @property
    def logo_version(self) -> str:
        """Changes whenever another logo (or another file of it) is chosen."""
        if self.logo is None:
            return ""
        return hashlib.sha256(f"{self.logo.pk}:{self.logo.file.name}".encode()).hexdigest()[:12]

    @property
    def has_footer_links(self) -> bool:
        return bool(self.legal_url or self.privacy_url or self.support_url or self.support_email)


def brand_for(request=None) -> BrandSettings:
    """The brand (cached on ``request``); the defaults when the table cannot be read (a page
    rendered while the database is failing still gets a header)."""
    from django.db import DatabaseError

    try:
        return BrandSettings.load(request_or_site=request)
    except DatabaseError:
        return BrandSettings()
