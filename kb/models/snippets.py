from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import TranslatableMixin
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField, TranslatableField

from permissions.models import key_validator


def source_products() -> Q:
    """The products an item may point at: the rows in the default locale (THE products), not
    their translations (``PortalItemPage.product``'s ``limit_choices_to``; no query)."""
    return Q(locale__language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))


class Product(TranslatableMixin, index.Indexed, models.Model):
    """A product line that items belong to (the library's "product" filter).

    Translatable (wagtail-localize's Translate action): a translation is another row with the
    same ``translation_key`` and the same ``key`` in another locale, and only its ``name`` is
    translated. The row in the default locale is THE product: items point at it (their
    ``product`` is synchronised, never rewritten to a translation), bundles, imports and the
    search facet name it by ``key``; translations only give partners its name in their
    language (kb.selectors.products_for_language). docs/decisions.md.
    """

    key = models.SlugField(validators=[key_validator])
    name = models.CharField(max_length=120)

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("locale"),  # Wagtail filters a translatable model by locale
    ]
    # The key is the product's identity across locales: copied from the source, never
    # translated (a SlugField would otherwise be a translatable text field).
    translatable_fields = [
        TranslatableField("name"),
        SynchronizedField("key", overridable=False),
    ]

    #: The name partners see, set by kb.selectors for the content language being read.
    _display_name: str | None = None

    class Meta(TranslatableMixin.Meta):
        ordering = ["name"]
        verbose_name = _("product")
        constraints = [
            models.UniqueConstraint(fields=["key", "locale"], name="kb_product_key_locale_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name to show a partner: its translation's in the content language being read
        when kb.selectors set it, else this row's own name."""
        return self._display_name or self.name


class DownloadEvent(models.Model):
    """One download of an item's file by a partner user (for "updated since you downloaded" and
    download statistics). The organisation is copied so statistics survive membership changes."""

    user = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="downloads"
    )
    organization = models.ForeignKey(
        "permissions.PartnerOrganization", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The history outlives the item (like Wagtail's own log entries): a deleted item's downloads
    # keep its id, so the partner's "Withdrawn" list can still name it by ``title_seen``. No
    # database constraint; read the item through a query on its id (never ``event.item`` or a
    # join, which would drop a deleted item's rows).
    item = models.ForeignKey(
        "kb.PortalItemPage",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # The version downloaded (its row; null once that version is deleted) ...
    document = models.ForeignKey(
        "files.PortalDocument", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ... and what survives its deletion: the file's stable key (lineage), the version number,
    # and the item's title as the partner saw it (CLARIFICATIONS 8: the withdrawn lists name an
    # item by that title, never by what it is called now).
    lineage = models.IntegerField(null=True, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    title_seen = models.CharField(max_length=255, blank=True)
    downloaded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "item", "downloaded_at"]),
            models.Index(fields=["user", "lineage", "downloaded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} downloaded {self.document_id} of {self.item_id}"


class ItemKey(models.Model):
    """A stable external key (bundle ``key``) for an item, so re-imports update instead of
    duplicating. Separate from the page so translations (page copies) do not copy it."""

    key = models.CharField(max_length=120, unique=True)
    page = models.OneToOneField(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="item_key"
    )

    def __str__(self) -> str:
        return self.key
