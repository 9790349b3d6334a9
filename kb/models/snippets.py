from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

from permissions.models import key_validator


class Product(index.Indexed, models.Model):
    """A product line that items belong to (the library's "product" filter)."""

    key = models.SlugField(unique=True, validators=[key_validator])
    name = models.CharField(max_length=120)

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")

    def __str__(self) -> str:
        return self.name


class DownloadEvent(models.Model):
    """One download of an item's file by a partner user (for "updated since you downloaded" and
    download statistics). The organisation is copied so statistics survive membership changes."""

    user = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="downloads"
    )
    organization = models.ForeignKey(
        "permissions.PartnerOrganization", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey("kb.PortalItemPage", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(
        "files.PortalDocument", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    downloaded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "item", "downloaded_at"])]

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
