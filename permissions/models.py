"""The entitlement model: partner tiers, regions, types, organisations, memberships and audiences.

Only permissions/policies/ reads these to decide access; everything else asks the policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.search import index

from .widgets import BrandKitLogoInput

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile

key_validator = RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", _("Lower-case letters, digits, - and _."))
color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #1f6feb."))


def brandkit_upload_to(instance: PartnerOrganization, filename: str) -> str:
    """Brand kit files: a sanitised name, in the organisation's residency region's bucket."""
    from files.storage import join_name, organization_region_key
    from files.validation import sanitize_filename

    return join_name(organization_region_key(instance), f"brandkits/{sanitize_filename(filename)}")


def validate_logo_upload(value: FieldFile) -> None:
    """A newly uploaded logo is checked by content (files.validation) before it is stored; a
    stored one (already checked) is not read again on every save."""
    if not value or getattr(value, "_committed", True):
        return
    from files.validation import validate_upload

    # A FieldFile is truthy only with a name, so ``name`` is set here.
    validate_upload(name=value.name or "", content=value.file, kind="logo")


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
    # Created with the organisation by services.organization_create (the admin comes there too).
    group = models.OneToOneField(Group, on_delete=models.PROTECT, editable=False, related_name="+")

    # Brand kit, used for co-branding.
    logo = models.FileField(
        upload_to=brandkit_upload_to, blank=True, validators=[validate_logo_upload]
    )
    primary_color = models.CharField(max_length=7, default="#0a66c2", validators=[color_validator])
    secondary_color = models.CharField(
        max_length=7, default="#ffffff", validators=[color_validator]
    )
    contact_block = models.TextField(
        blank=True, help_text=_("Address and any other lines of the contact block.")
    )
    # The contact block's named parts: co-brand templates place each in its own text box.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_web = models.CharField(max_length=200, blank=True)
    # Counts brand-kit changes: a co-brand render is cached per (master version, template
    # version, brand-kit version), so every change to what a render shows bumps this
    # (permissions.services, the organisation page and the admin all save through there).
    brand_kit_version = models.PositiveIntegerField(default=1, editable=False)

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
                FieldPanel("contact_name"),
                FieldPanel("contact_phone"),
                FieldPanel("contact_email"),
                FieldPanel("contact_web"),
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

    All of them, per-organisation grants and exceptions included, are page fields: drafts,
    revisions, workflows, scheduled publishing and revision compare apply to them like to any
    field. The published values are applied on a full save of a live page (publish, import) by
    ``services.audience_apply``: grants/exceptions are mirrored into guardian permissions, the
    rule is compiled into PageAudience (what the policy filters on) and every change is audited.
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

    audience_grants = ParentalManyToManyField(
        PartnerOrganization,
        verbose_name=_("granted organisations"),
        blank=True,
        related_name="+",
        help_text=_("May see this page even if tier, region or type do not match."),
    )
    audience_exceptions = ParentalManyToManyField(
        PartnerOrganization,
        verbose_name=_("excluded organisations"),
        blank=True,
        related_name="+",
        help_text=_("May never see this page or anything below it."),
    )

    #: The fields that decide who may see the page (all of them are in the revision).
    AUDIENCE_FIELDS = (
        "audience_public",
        "audience_min_tier",
        "audience_regions",
        "audience_partner_types",
        "audience_grants",
        "audience_exceptions",
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        # save_revision() (drafts, submissions, workflows) saves with update_fields and never
        # names these fields: a draft's access must not become what partners see. Full saves
        # (publish, import, creation) apply; audience_apply itself skips a page that is not live.
        applies = update_fields is None or bool(
            set(self.AUDIENCE_FIELDS).intersection(update_fields)
        )
        # Whether partners could see the page before this save: a page going live has its
        # whole access audited, not only the difference to what it was compiled with.
        was_live = (
            applies
            and self.pk is not None
            # The mixin's concrete classes are Wagtail pages, which have ``live``.
            and type(self)._base_manager.filter(pk=self.pk, live=True).exists()  # type: ignore[misc]
        )
        super().save(*args, **kwargs)
        if applies:
            from .services import audience_apply

            audience_apply(page=self, was_live=was_live)


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
    # Translations (docs/translation-audience.md): the source page
    # of this translation (its group's page in the default locale); its grants and exceptions
    # are this node's, and the own_* columns above hold the translation's own fields AND the
    # source's own rule. A deleted source takes this row with it: the translation has no
    # compiled audience then, so no partner sees it (fail closed) until it is compiled again.
    source = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="translation_audiences",
    )
    # False while the source is not live: no partner sees the translation (checked on the
    # outer page by every exit; kept in step synchronously by services.audience_apply).
    source_live = models.BooleanField(default=True)
    # A translation that does not sit under the translation of its source's parent (or whose
    # source has no compiled audience): its rule admits nobody and it takes no grants.
    detached = models.BooleanField(default=False)
    # A translation's own fields as its editor set them (own_* hold them AND the source's rule):
    # what the access audit compares with. None for pages that are not translations.
    translation_own = models.JSONField(null=True, blank=True)
    # Expiry (docs/scheduling.md): the page's own ``expire_at`` (for a translation, the earlier
    # of its own and its source's), and the earliest one down the chain. A page whose effective
    # expiry has passed is hidden from every partner by the queries themselves, before any
    # scheduler unpublishes it. Compiled with the rest on every publish.
    own_expire_at = models.DateTimeField(null=True, blank=True)
    eff_expire_at = models.DateTimeField(null=True, blank=True)
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


class AccessChange(models.Model):
    """One applied change of who may see a page: the audit trail (services.audience_apply).

    Written in the same transaction as the change itself, only when what partners see changes
    (an unchanged publish writes nothing). Grants and exceptions get one row per organisation.
    """

    class Source(models.TextChoices):
        ADMIN = "admin", _("Admin")
        IMPORT = "import", _("Import")
        DEMO = "demo", _("Demo seed")
        SCHEDULED = "scheduled", _("Scheduled publishing")
        SYSTEM = "system", _("System")

    class Field(models.TextChoices):
        PUBLIC = "public", _("public")
        MIN_TIER = "min_tier", _("minimum tier")
        REGIONS = "regions", _("regions")
        PARTNER_TYPES = "partner_types", _("partner types")
        GRANT = "grant", _("grant")
        EXCEPTION = "exception", _("exception")

    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        on_delete=models.SET_NULL,
        related_name="access_changes",
    )
    # Kept so the trail stays readable after the page or organisation is deleted.
    page_title = models.CharField(max_length=255)
    field = models.CharField(max_length=20, choices=Field.choices)
    organization = models.ForeignKey(
        PartnerOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization_name = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The author of the published revision."),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who published it (empty: scheduled publishing, an import or the system)."),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        permissions = [("change_page_access", _("Can change who may see pages"))]
        verbose_name = _("access change")

    def __str__(self) -> str:
        target = f" ({self.organization_name})" if self.organization_name else ""
        return f"{self.page_title}: {self.get_field_display()}{target} {self.before} → {self.after}"


#: The permission that lets a staff user change the audience fields (asked through
#: policies.page_access_policy, never directly).
CHANGE_ACCESS_PERMISSION = "permissions.change_page_access"


class OrganizationChange(models.Model):
    """One change to a partner organisation's brand kit or members: the organisation's audit trail.

    Written in the same transaction as the change (permissions.services, accounts.services):
    brand-kit edits (changed fields with before/after), logo changes (file names), invitations
    (sent, revoked, accepted), role changes, deactivations and reactivations. Shown to the
    organisation's partner admins on the portal and to staff in the admin.
    """

    class Action(models.TextChoices):
        BRAND_KIT = "brand_kit", _("Brand kit changed")
        LOGO = "logo", _("Logo changed")
        INVITE = "invite", _("Invitation sent")
        REVOKE = "revoke", _("Invitation revoked")
        ACCEPT = "accept", _("Invitation accepted")
        ROLE = "role", _("Role changed")
        DEACTIVATE = "deactivate", _("Member deactivated")
        REACTIVATE = "reactivate", _("Member reactivated")

    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept so the trail stays readable after the actor's account is deleted; empty: the system
    # (an import, the demo seed).
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # Who or what the change was about when it is a person (an invited or changed member).
    subject_email = models.EmailField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("organisation change")
        verbose_name_plural = _("organisation changes")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"
