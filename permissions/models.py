"""The entitlement model: partner tiers, regions, types, organisations, memberships and audiences.

Only permissions/policies.py reads these to decide access; everything else asks the policy.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.search import index

from .widgets import BrandKitLogoInput

key_validator = RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", _("Lower-case letters, digits, - and _."))
color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #1f6feb."))


def brandkit_upload_to(instance: PartnerOrganization, filename: str) -> str:
    """Brand kit files: a sanitised name, in the organisation's residency region's bucket."""
    from kb.storage import join_name, organization_region_key
    from kb.validation import sanitize_filename

    return join_name(organization_region_key(instance), f"brandkits/{sanitize_filename(filename)}")


def validate_logo_upload(value) -> None:
    """A newly uploaded logo is checked by content (kb.validation) before it is stored; a
    stored one (already checked) is not read again on every save."""
    if not value or getattr(value, "_committed", True):
        return
    from kb.validation import validate_upload

    validate_upload(name=value.name, content=value.file, kind="logo")


class Tier(index.Indexed, models.Model):
    """A partner tier. Higher rank sees more: an item for rank 2 is visible from rank 2 upwards."""

    key = models.SlugField(unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)
    rank = models.PositiveIntegerField(unique=True, help_text=_("Higher rank sees more."))

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class Region(index.Indexed, models.Model):
    """A sales region; a parent lets a sub-region (DACH) sit under a region (EMEA).

    An item for EMEA is visible to organisations in DACH; an item for DACH is not visible to an
    organisation placed in EMEA itself.
    """

    key = models.SlugField(unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerType(index.Indexed, models.Model):
    key = models.SlugField(unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner type")

    def __str__(self) -> str:
        return self.name


class PartnerOrganization(index.Indexed, models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    key = models.SlugField(unique=True, validators=[key_validator])
    name = models.CharField(max_length=200)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="organizations")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organizations")
    partner_type = models.ForeignKey(
        PartnerType, on_delete=models.PROTECT, related_name="organizations"
    )
    country = models.CharField(max_length=2, help_text=_("ISO 3166-1 alpha-2, e.g. DE"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The organisation's guardian principal: grants and exceptions are object permissions of this
    # group. Members are not added to it; the policy asks with the organisation's group directly.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, editable=False, related_name="+")

    # Brand kit, used for co-branding.
    logo = models.FileField(
        upload_to=brandkit_upload_to, blank=True, validators=[validate_logo_upload]
    )
    primary_color = models.CharField(max_length=7, default="#0a66c2", validators=[color_validator])
    secondary_color = models.CharField(
        max_length=7, default="#ffffff", validators=[color_validator]
    )
    contact_block = models.TextField(blank=True, help_text=_("Name, phone, e-mail, web address."))

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("key"),
        index.FilterField("tier"),
        index.FilterField("region"),
        index.FilterField("partner_type"),
        index.FilterField("status"),
        index.FilterField("country"),
    ]

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("key"),
                FieldPanel("name"),
                FieldPanel("tier"),
                FieldPanel("region"),
                FieldPanel("partner_type"),
                FieldPanel("country"),
                FieldPanel("status"),
            ],
            heading=_("Organisation"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("logo", widget=BrandKitLogoInput),
                FieldPanel("primary_color"),
                FieldPanel("secondary_color"),
                FieldPanel("contact_block"),
            ],
            heading=_("Brand kit"),
        ),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organisation")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def save(self, *args, **kwargs):
        if self.group_id is None:
            # Every organisation is a guardian principal (admin-created ones included).
            from .services import organization_group

            self.group = organization_group(key=self.key)
        super().save(*args, **kwargs)


class Membership(index.Indexed, models.Model):
    """A partner user's organisation and role. Staff users have no membership."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Partner admin")
        MEMBER = "member", _("Member")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    search_fields = [
        index.FilterField("organization"),
        index.FilterField("role"),
        index.RelatedFields("user", [index.SearchField("email")]),
    ]

    class Meta:
        ordering = ["organization__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"


class AudienceMixin(models.Model):
    """Audience fields for every partner-visible page; edited in one panel, stored in revisions.

    The live values are compiled into PageAudience on save (see services.audience_compile), which
    is what the policy filters on. Grants and exceptions are per-organisation guardian permissions.
    """

    audience_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_(
            "Anyone, even without logging in, may see this (unless a parent restricts it)."
        ),
    )
    audience_min_tier = models.ForeignKey(
        Tier,
        verbose_name=_("minimum tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: any tier."),
    )
    audience_regions = ParentalManyToManyField(
        Region,
        verbose_name=_("regions"),
        blank=True,
        related_name="+",
        help_text=_("None selected: all regions."),
    )
    audience_partner_types = ParentalManyToManyField(
        PartnerType,
        verbose_name=_("partner types"),
        blank=True,
        related_name="+",
        help_text=_("None selected: all partner types."),
    )

    AUDIENCE_FIELDS = frozenset(
        {"audience_public", "audience_min_tier", "audience_regions", "audience_partner_types"}
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        result = super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        # save_revision() saves with update_fields and an in-memory draft: a draft's audience
        # must not become what partners see, so only full saves (create, publish) compile.
        if update_fields is None or self.AUDIENCE_FIELDS.intersection(update_fields):
            from .services import audience_compile

            audience_compile(page=self)
        return result


class PageAudience(models.Model):
    """The compiled audience of one page (its own rule and the effective rule down its chain).

    Region and type sets are stored as ``|id|id|`` tokens so a membership test is a LIKE on one
    column; NULL means "no restriction", "|" means "nobody" (an empty intersection).
    """

    page = models.OneToOneField(
        "wagtailcore.Page", on_delete=models.CASCADE, primary_key=True, related_name="audience"
    )
    own_public = models.BooleanField(default=False)
    own_min_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    own_min_rank = models.PositiveIntegerField(null=True, blank=True)
    own_regions = models.TextField(null=True, blank=True)
    own_types = models.TextField(null=True, blank=True)
    # Guardian groups (organisations) granted / excepted on this page, mirrored from
    # PageGroupObjectPermission by services.audience_set_organizations ("|" = none).
    own_grants = models.TextField(default="|")
    own_exceptions = models.TextField(default="|")
    eff_public = models.BooleanField(default=False)
    eff_min_rank = models.PositiveIntegerField(null=True, blank=True)
    eff_regions = models.TextField(null=True, blank=True)
    eff_types = models.TextField(null=True, blank=True)
    # Union down the chain: organisations holding a grant / an exception on this page or above.
    # A grant only matters below it (the filter still checks node by node there); an exception
    # anywhere up the chain closes the page, so one LIKE answers it.
    eff_grants = models.TextField(default="|")
    eff_exceptions = models.TextField(default="|")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["eff_min_rank"])]

    def __str__(self) -> str:
        return f"audience of page {self.page_id}"


class PageGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-FK guardian table for per-organisation grants and exceptions on pages."""

    content_object = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        indexes = [models.Index(fields=["group", "permission"])]


# Guardian permission codenames (on wagtailcore.Page), created by migration 0002.
GRANT_CODENAME = "audience_grant"
EXCEPTION_CODENAME = "audience_exception"
