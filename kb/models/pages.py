"""Content pages: the portal home, library sections and the three kinds of partner-visible items.

Every partner-visible page carries AudienceMixin; who may see it is decided only by
permissions.policies. Marketing assets are pages too (see docs/decisions.md): they then share the
tree (audience inheritance), revisions, scheduling, approval workflows and wagtail-localize's page
translation with product sheets and guides, instead of re-building each for a snippet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import (
    FieldPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail_localize.fields import BaseTranslatableField, SynchronizedField

from permissions.models import AudienceMixin
from permissions.panels import AudienceAdminPageForm, audience_panels

from ..admin_panels import FileVersionPanel
from ..forms import ProductSheetAdminForm
from ..panels import PreviewAsPanel, SheetVersionsPanel
from ..querysets import PortalPageManager
from .snippets import source_products

if TYPE_CHECKING:
    from files.models import PortalDocument

ITEM_PAGE_TYPES = ["kb.ProductSheetPage", "kb.TrainingGuidePage", "kb.MarketingAssetPage"]


class TranslationOwnedField(BaseTranslatableField):
    """A child relation that belongs to each translation itself: wagtail-localize neither
    translates it nor copies the source's children over it on a sync (a synchronised child
    relation is *replaced* by the source's on every sync, which would delete a translation's
    localized files)."""

    def is_synchronized(self, obj) -> bool:
        return False

    def is_overridable(self, obj) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<TranslationOwnedField {self.field_name}>"


class PortalHomePage(Page):
    """The portal's home for one locale: what is new and updated for the signed-in partner."""

    intro = RichTextField(blank=True)

    # The home frames content for every signed-in user (permissions.policies.pages._is_shell).
    audience_shell = True

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["kb.LibraryIndexPage"]

    class Meta:
        verbose_name = _("portal home page")

    def serve(self, request, *args, **kwargs):
        """Signed-in users get their home (in their preferred language's tree when it has
        one); anonymous visitors the public landing (kb.landing), in the browser's language."""
        if not request.user.is_authenticated:
            from ..landing import landing_response

            return landing_response(request, self)
        wanted = getattr(request.user, "preferred_language", "")
        if wanted and wanted != self.locale.language_code and not request.GET.get("stay"):
            translation = self.get_translations().filter(locale__language_code=wanted).first()
            if translation is not None and translation.live:
                return HttpResponseRedirect(translation.url)
        return super().serve(request, *args, **kwargs)

    def route(self, request, path_components):
        """Wagtail's routing, in two queries instead of two per level.

        Wagtail walks down one level per path component (the child with that slug, then its
        specific page): six queries to reach an item three levels below the home. A page's
        ``url_path`` is its ancestors' slugs, so the deepest page the path reaches is found at
        once; it routes the rest (none of the portal's pages routes differently from Wagtail's
        ``Page.route``, so a path that goes further than the tree answers 404 as before, and
        only the page reached must be live, as in Wagtail)."""
        if not path_components:
            return super().route(request, path_components)
        prefixes = [
            f"{self.url_path}{'/'.join(path_components[:depth])}/"
            for depth in range(1, len(path_components) + 1)
        ]
        deepest = (
            Page.objects.filter(path__startswith=self.path, url_path__in=prefixes)
            .order_by("-depth")
            .first()
        )
        if deepest is None:
            raise Http404
        reached = deepest.depth - self.depth
        return deepest.specific.route(request, path_components[reached:])

    def get_context(self, request, *args, **kwargs):
        from ..home import home_feed, home_panels

        context = super().get_context(request, *args, **kwargs)
        context["feed"] = home_feed(user=request.user, home=self)
        # What the apps above kb add (co-brand, translation tasks, …): kb.home, docs/home.md.
        context["home_panels"] = home_panels(request=request, home=self)
        return context


class PreviewAsMixin:
    """The editor's preview of a library page also "as the partner chosen in Preview as":
    rendered as that organisation or user would see it once published, from the unsaved form,
    or, when they would not see it, why (kb.preview; decided by permissions.policies.pages)."""

    @property
    def preview_modes(self):
        from ..preview import PREVIEW_MODES

        return PREVIEW_MODES

    def serve_preview(self, request, mode_name):
        from ..preview import PREVIEW_AS_MODE, preview_as_serve

        if mode_name != PREVIEW_AS_MODE:
            return super().serve_preview(request, mode_name)
        return preview_as_serve(
            self,
            request,
            lambda as_request: super(PreviewAsMixin, self).serve_preview(as_request, ""),
        )


def audience_tab_panels() -> list:
    """The Audience tab: the audience fields, "Who can see this" and "Preview as"."""
    return [*audience_panels(), PreviewAsPanel(heading=_("Preview as"))]


class LibraryIndexPage(PreviewAsMixin, AudienceMixin, Page):
    """A library section listing the items below it, with product / type / language filters."""

    intro = RichTextField(blank=True)

    objects = PortalPageManager()
    base_form_class = AudienceAdminPageForm
    content_panels = Page.content_panels + [FieldPanel("intro")]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("Content")),
            ObjectList(audience_tab_panels(), heading=_("Audience")),
            ObjectList(Page.promote_panels, heading=_("Promote")),
            ObjectList(Page.settings_panels, heading=_("Settings")),
        ]
    )
    parent_page_types = ["kb.PortalHomePage", "kb.LibraryIndexPage"]
    subpage_types = ["kb.LibraryIndexPage", *ITEM_PAGE_TYPES]

    class Meta:
        verbose_name = _("library section")

    def get_context(self, request, *args, **kwargs):
        from ..selectors import library_listing, locale_cached

        context = super().get_context(request, *args, **kwargs)
        context["listing"] = library_listing(user=request.user, section=self, params=request.GET)
        self.locale = locale_cached(self.locale_id)  # the layout reads it: no query for it
        return context


class PortalItemTag(TaggedItemBase):
    """An item's tag (taggit's shared ``Tag``). A ParentalKey, so tags are part of the page's
    revisions: a draft's tags stay in the draft until it is published."""

    content_object = ParentalKey(
        "kb.PortalItemPage", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("item tag")


class PortalItemPage(PreviewAsMixin, AudienceMixin, Page):
    """Fields every partner-visible item shares; concrete so one query lists all kinds together."""

    summary = models.TextField(blank=True, help_text=_("One or two sentences shown in listings."))
    body = RichTextField(blank=True)
    product = models.ForeignKey(
        "kb.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        limit_choices_to=source_products,
    )
    cover_image = models.ForeignKey(
        "files.PortalImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # On a translation: the SHA-256 of the source's cover image its own cover localizes; blank
    # = not localized (partners get the source's). See ``localized_asset_fields``.
    cover_image_source_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    tags = ClusterTaggableManager(
        through=PortalItemTag,
        blank=True,
        help_text=_("Keywords partners can search and filter by, e.g. datasheet, pricing."),
    )

    objects = PortalPageManager()
    base_form_class = AudienceAdminPageForm
    is_creatable = False
    parent_page_types = ["kb.LibraryIndexPage", *ITEM_PAGE_TYPES]
    subpage_types = ITEM_PAGE_TYPES

    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("product"),
    ]
    item_panels: list = []
    # A translation's attachments are its localized files (ItemAttachment): kept through syncs.
    # Overrides an ancestor may declare (the audience fields) are kept, these are added.
    # An item's translation keeps pointing at the SOURCE product (the row in the default
    # locale, THE product): wagtail-localize would otherwise rewrite the foreign key to the
    # product's translation and refuse to translate an item whose product is not translated yet
    # (MissingRelatedObjectError). Partners still read the product's name in their language
    # (kb.selectors.products_for_language). docs/decisions.md, "Products are translatable".
    override_translatable_fields = [
        *getattr(AudienceMixin, "override_translatable_fields", ()),
        TranslationOwnedField("attachments"),
        # Localized asset files (docs/localized-files.md): each translation's own, never
        # replaced by a sync; the source's is shown while the *_source_sha256 is blank.
        TranslationOwnedField("cover_image"),
        TranslationOwnedField("cover_image_source_sha256"),
        SynchronizedField("product", overridable=False),
    ]
    # Single-file fields a translation may localize: field -> "document" | "image".
    localized_asset_fields: dict[str, str] = {"cover_image": "image"}

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        # A plain select of the source products (limit_choices_to), not the snippet chooser,
        # which would offer the translations of the page's locale too.
        FieldPanel("product", widget=forms.Select),
        FieldPanel("cover_image"),
        FieldPanel("tags"),
        FieldPanel("body"),
    ]

    class Meta:
        verbose_name = _("library item")

    @classmethod
    def build_edit_handler(cls):
        return TabbedInterface(
            [
                ObjectList(cls.content_panels + cls.item_panels, heading=_("Content")),
                ObjectList(
                    [InlinePanel("attachments", heading=_("Files"), label=_("File"))],
                    heading=_("Files"),
                ),
                ObjectList(audience_tab_panels(), heading=_("Audience")),
                ObjectList(cls.promote_panels, heading=_("Promote")),
                ObjectList(cls.settings_panels, heading=_("Settings")),
            ]
        )

    @property
    def kind_label(self) -> str:
        return str(self.specific_class._meta.verbose_name)

    def has_file(self, document_id: int) -> bool:
        """Is document ``document_id`` one of this item's files (an attachment, or a marketing
        asset's master)? Asked by permissions.policies.files before any download."""
        attached = self.attachments.filter(document_id=document_id).exists()
        if attached or getattr(self, "master_document_id", None) != document_id:
            return attached
        # A translation's own master document is its file only once localized (otherwise it is
        # a possibly stale copy of the source's): the file readers get (kb.selectors).
        from ..selectors import localized_asset

        master = localized_asset(self, "master_document").file
        return master is not None and master.pk == document_id

    @property
    def kind(self) -> str:
        return CONTENT_KIND_BY_MODEL.get(self.specific_class.__name__, "item")

    def get_context(self, request, *args, **kwargs):
        from ..selectors import (
            item_file_downloads,
            item_files,
            item_product,
            item_tags,
            localized_asset,
        )

        context = super().get_context(request, *args, **kwargs)
        # On a translation: its localized cover, or the source's (kb.views.item_image serves it).
        context["cover_image"] = localized_asset(self, "cover_image")
        context["product"] = item_product(item=self)  # named in the page's language
        context["files"] = item_files(user=request.user, item=self)
        # Per file: the version the user downloaded, and what changed since (the badges).
        item_file_downloads(user=request.user, item=self, files=context["files"]["files"])
        context["tags"] = item_tags(item=self)
        return context


class ProductSheetPage(PortalItemPage):
    base_form_class = ProductSheetAdminForm
    version_label = models.CharField(max_length=40, blank=True, help_text=_("e.g. v3 or 2026.2"))
    specifications = StreamField(
        [
            (
                "spec",
                blocks.StructBlock(
                    [("name", blocks.CharBlock()), ("value", blocks.CharBlock())],
                    icon="list-ul",
                ),
            )
        ],
        blank=True,
    )
    # What changed in the version being published: becomes its entry in the sheet's history
    # (kb.ProductSheetVersion, written on publish by kb.services.product_sheet_version_record).
    change_note = RichTextField(
        _("what changed in this version"),
        blank=True,
        features=["bold", "italic", "ol", "ul", "link"],
        help_text=_(
            "Partners read this in the sheet's version history. When you give the sheet a new "
            "version label, say here what changed; publishing then adds the version to the "
            "history. Keep the label to fix a typo in the current version's note."
        ),
    )
    # History written before versions were recorded one by one (kept as it was: its dates are
    # unknown). Shown below the recorded versions as "Earlier changes".
    changelog = RichTextField(
        _("earlier changes"),
        blank=True,
        help_text=_(
            "History from before versions were recorded on publish. New versions go in "
            '"What changed in this version".'
        ),
    )

    item_panels = [
        MultiFieldPanel(
            [
                FieldPanel("version_label"),
                FieldPanel("change_note"),
                SheetVersionsPanel(),
            ],
            heading=_("Version"),
        ),
        FieldPanel("specifications"),
        FieldPanel("changelog"),
    ]
    template = "kb/product_sheet_page.html"
    # The version label names the same version in every language (a translation's history has
    # the source's labels); the note is translated like any text.
    override_translatable_fields = [
        *PortalItemPage.override_translatable_fields,
        SynchronizedField("version_label", overridable=False),
    ]
    #: Versions shown on the sheet; the rest are on the paginated full history (?history=1).
    HISTORY_LATEST = 5
    HISTORY_PAGE_SIZE = 25

    class Meta:
        verbose_name = _("product sheet")

    def get_context(self, request, *args, **kwargs):
        from ..selectors import product_sheet_history

        context = super().get_context(request, *args, **kwargs)
        context["history"] = product_sheet_history(
            sheet=self,
            full=bool(request.GET.get("history")),
            page_number=request.GET.get("history_page"),
        )
        return context


class TrainingGuidePage(PortalItemPage):
    class Level(models.TextChoices):
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    duration_minutes = models.PositiveIntegerField(default=30)
    modules = StreamField(
        [
            (
                "module",
                blocks.StructBlock(
                    [
                        ("title", blocks.CharBlock()),
                        (
                            "steps",
                            blocks.ListBlock(
                                blocks.StructBlock(
                                    [("title", blocks.CharBlock()), ("body", blocks.TextBlock())]
                                )
                            ),
                        ),
                    ],
                    icon="doc-full",
                ),
            )
        ],
        blank=True,
    )

    item_panels = [FieldPanel("level"), FieldPanel("duration_minutes"), FieldPanel("modules")]
    template = "kb/training_guide_page.html"

    class Meta:
        verbose_name = _("training guide")


class MarketingAssetPage(PortalItemPage):
    class AssetKind(models.TextChoices):
        BROCHURE = "brochure", _("Brochure")
        BANNER = "banner", _("Banner")
        PRESENTATION = "presentation", _("Presentation")
        SOCIAL = "social", _("Social post")

    asset_kind = models.CharField(max_length=20, choices=AssetKind.choices, default="brochure")
    master_document = models.ForeignKey(
        "files.PortalDocument",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="master_of",
    )
    master_image = models.ForeignKey(
        "files.PortalImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # On a translation: the SHA-256 of the source's master file it localizes (blank: not
    # localized, partners get the source's master with a note).
    master_document_source_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    master_image_source_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    co_brandable = models.BooleanField(default=True)

    override_translatable_fields = [
        *PortalItemPage.override_translatable_fields,
        TranslationOwnedField("master_document"),
        TranslationOwnedField("master_document_source_sha256"),
        TranslationOwnedField("master_image"),
        TranslationOwnedField("master_image_source_sha256"),
    ]
    localized_asset_fields = {
        **PortalItemPage.localized_asset_fields,
        "master_document": "document",
        "master_image": "image",
    }

    item_panels = [
        FieldPanel("asset_kind"),
        FieldPanel("master_document"),
        FileVersionPanel("master_document"),
        FieldPanel("master_image"),
        FieldPanel("co_brandable"),
    ]
    template = "kb/marketing_asset_page.html"

    class Meta:
        verbose_name = _("marketing asset")

    def get_context(self, request, *args, **kwargs):
        from ..selectors import item_actions, localized_asset

        context = super().get_context(request, *args, **kwargs)
        context["item_actions"] = item_actions(request=request, item=self)
        # On a translation: its localized master image, or the source's with a note.
        context["master_image"] = localized_asset(self, "master_image")
        return context


class ItemAttachment(Orderable):
    """A file attached to an item; a partner may download it only if they may see the item.

    The file's language is its page's locale. On a translation an attachment with a ``master``
    is a *localized file*: it replaces that attachment of the source for the translation's
    readers, and ``master_sha256`` holds the SHA-256 of the master's file it translates; it is
    out of date once the master's current file has another SHA-256 (docs/localized-files.md).
    Localized files are written by localization.services (``localized_file_attach``).
    """

    page = ParentalKey(PortalItemPage, on_delete=models.CASCADE, related_name="attachments")
    # Annotated: Orderable is untyped, so the django plugin does not infer this model's fields.
    document: models.ForeignKey[PortalDocument, PortalDocument] = models.ForeignKey(
        "files.PortalDocument", on_delete=models.PROTECT, related_name="attachments"
    )
    title: models.CharField[str, str] = models.CharField(max_length=200, blank=True)
    # SET_NULL: a master removed from the source leaves the translation's file in place, as a
    # file of the translation only (its task then shows nothing out of date for it).
    master: models.ForeignKey[ItemAttachment | None, ItemAttachment | None] = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="localized",
        editable=False,
    )
    master_sha256: models.CharField[str, str] = models.CharField(
        max_length=64, blank=True, editable=False
    )

    # The file's live and newest version, with "Versions" and "Upload new version"
    # (kb.version_admin_views).
    panels = [FieldPanel("document"), FieldPanel("title"), FileVersionPanel("document")]

    def __str__(self) -> str:
        return self.title or self.document.title

    def clean(self) -> None:
        # A deleted version (a tombstone: no file) can never be adopted again, e.g. by
        # reverting to an old revision that named it.
        document = self.document if self.document_id else None
        if document is not None and document.deleted_at is not None:
            raise ValidationError(
                {"document": _("This version of the file was deleted; choose another one.")}
            )

    @property
    def is_localized(self) -> bool:
        return self.master_id is not None


# Public keys of the item kinds (bundle "kind", library "type" filter) by model.
CONTENT_KIND_BY_MODEL = {
    "ProductSheetPage": "product_sheet",
    "TrainingGuidePage": "training_guide",
    "MarketingAssetPage": "marketing_asset",
}
MODEL_BY_CONTENT_KIND = {
    "product_sheet": ProductSheetPage,
    "training_guide": TrainingGuidePage,
    "marketing_asset": MarketingAssetPage,
}
for _model in (ProductSheetPage, TrainingGuidePage, MarketingAssetPage):
    _model.edit_handler = _model.build_edit_handler()
