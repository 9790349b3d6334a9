"""Reads for the portal: every query of partner-visible content goes through visible_to()."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from wagtail.models import Locale, Page

from permissions.policies.principal import principal_for

from .models import (
    DownloadEvent,
    LibraryIndexPage,
    PortalItemPage,
    Product,
)
from .models.pages import CONTENT_KIND_BY_MODEL, MODEL_BY_CONTENT_KIND


@dataclass
class HomeFeed:
    new_for_you: list[PortalItemPage]
    updated_since_download: list[PortalItemPage]
    sections: list[LibraryIndexPage]
    suspended: bool = False


def _visible_items(user):
    return PortalItemPage.objects.live().visible_to(user)


def home_feed(*, user, home: Page, limit: int = 8) -> HomeFeed:
    """What is new and updated for ``user`` (only what they may see)."""
    principal = principal_for(user)
    since = timezone.now() - timedelta(days=settings.PORTAL_NEW_DAYS)
    items = _visible_items(user).select_related("product", "locale")
    new = list(items.filter(first_published_at__gte=since).order_by("-first_published_at")[:limit])
    last_download = (
        DownloadEvent.objects.filter(user_id=user.pk, item_id=OuterRef("pk"))
        .values("item_id")
        .annotate(at=Max("downloaded_at"))
        .values("at")
    )
    updated = list(
        items.annotate(last_download=Subquery(last_download))
        .filter(last_download__isnull=False, last_published_at__gt=F("last_download"))
        .order_by("-last_published_at")[:limit]
    )
    sections = list(
        LibraryIndexPage.objects.live().child_of(home).visible_to(user).order_by("path")
    )
    return HomeFeed(
        new_for_you=new,
        updated_since_download=updated,
        sections=sections,
        suspended=principal.kind == "suspended",
    )


@dataclass
class Listing:
    page: PaginatorPage
    products: list[Product]
    subsections: list[LibraryIndexPage]
    kinds: list[tuple[str, str]]
    languages: list[tuple[str, str]]
    selected: dict[str, str] = field(default_factory=dict)


def _locale_code(locale_id: int) -> str:
    codes = cache.get("portal:locale-codes")
    if codes is None or locale_id not in codes:
        codes = dict(Locale.objects.values_list("id", "language_code"))
        cache.set("portal:locale-codes", codes, 3600)
    return codes[locale_id]


def _kind_label(kind: str) -> str:
    return str(MODEL_BY_CONTENT_KIND[kind]._meta.verbose_name)


def library_listing(*, user, section: LibraryIndexPage, params) -> Listing:
    """Items below ``section`` (and its translations) that ``user`` may see, filtered and paged.

    Query count does not depend on the catalogue size (see bench/listing.py).
    """
    sections = list(section.get_translations(inclusive=True).only("path", "depth", "locale_id"))
    scope = Q()
    for s in sections:
        scope |= Q(path__startswith=s.path, depth__gt=s.depth)
    items = _visible_items(user).filter(scope)

    selected: dict[str, str] = {}
    language = params.get("language") or _locale_code(section.locale_id)
    if language != "all":
        selected["language"] = language
        items = items.filter(locale__language_code=language)
    else:
        selected["language"] = "all"
    product = params.get("product")
    if product:
        selected["product"] = product
        items = items.filter(product__key=product)
    tag = (params.get("tag") or "").strip()
    if tag and len(tag) <= 100:
        # A join in the same query (a tag slug occurs once per item: no duplicate rows).
        selected["tag"] = tag
        items = items.filter(tags__slug=tag)
    kind = params.get("type")
    if kind in MODEL_BY_CONTENT_KIND:
        selected["type"] = kind
        items = items.filter(content_type__model=MODEL_BY_CONTENT_KIND[kind]._meta.model_name)

    items = items.select_related("product", "locale").order_by("-last_published_at", "-pk")
    paginator = Paginator(items, settings.PORTAL_PAGE_SIZE)
    page = paginator.get_page(params.get("page"))
    return Listing(
        page=page,
        products=list(Product.objects.order_by("name")),
        subsections=list(
            LibraryIndexPage.objects.child_of(section).live().visible_to(user).order_by("path")
        ),
        kinds=[(k, _kind_label(k)) for k in MODEL_BY_CONTENT_KIND],
        languages=list(settings.WAGTAIL_CONTENT_LANGUAGES),
        selected=selected,
    )


@dataclass
class ItemFile:
    attachment_id: int | None
    document_id: int
    title: str
    filename: str
    language: str
    size: int | None
    url: str
    preferred: bool


def item_files(*, user, item: PortalItemPage) -> dict:
    """The item's downloadable files, the user's language first; a note when it has none."""
    from django.urls import reverse

    wanted = getattr(user, "preferred_language", None) or "en"
    files: list[ItemFile] = []
    specific = item.specific
    master = getattr(specific, "master_document", None)
    if master is not None:
        files.append(
            ItemFile(
                None,
                master.pk,
                master.title,
                master.filename,
                item.locale.language_code,
                master.file_size,
                reverse("kb:download", args=[item.pk, master.pk, master.filename]),
                False,
            )
        )
    for att in item.attachments.select_related("document").order_by("sort_order"):
        doc = att.document
        files.append(
            ItemFile(
                att.pk,
                doc.pk,
                att.title or doc.title,
                doc.filename,
                att.language,
                doc.file_size,
                reverse("kb:download", args=[item.pk, doc.pk, doc.filename]),
                att.language == wanted,
            )
        )
    has_wanted = any(f.language == wanted for f in files)
    files.sort(key=lambda f: (not f.preferred,))
    return {
        "files": files,
        "language": wanted,
        "fallback_note": bool(files) and not has_wanted and wanted != "en",
    }


@dataclass
class ItemTag:
    name: str
    slug: str
    url: str  # the portal search for this tag


def item_tags(*, item: PortalItemPage) -> list[ItemTag]:
    """The item's tags (one query), each linking to the search filtered by it.

    The link carries the tag's words as the query too: the search page needs a query, and the
    tag names are indexed as text, so ``q=<name>&tag=<slug>`` lists exactly the items with the
    tag that the user may see.
    """
    from urllib.parse import urlencode

    from django.urls import reverse

    search_url = reverse("search:search")
    return [
        ItemTag(tag.name, tag.slug, f"{search_url}?{urlencode({'q': tag.name, 'tag': tag.slug})}")
        for tag in sorted(item.tags.all(), key=lambda t: t.name)
    ]


def content_kind(page: Page) -> str:
    return CONTENT_KIND_BY_MODEL.get(page.specific_class.__name__, "item")


def locales() -> list[Locale]:
    return list(Locale.objects.all())


ITEM_ACTIONS_HOOK = "portal_item_actions"


def item_actions(*, request, item: Page) -> list[str]:
    """The extra actions an item page offers (rendered HTML), contributed by the apps above kb
    through the ``portal_item_actions`` Wagtail hook (cobranding's "Co-brand" button): kb shows
    them without importing those apps. Each hook takes ``(request, item)`` and returns HTML or
    None; it asks permissions/ itself whether the user may use it."""
    from wagtail import hooks

    actions = []
    for hook in hooks.get_hooks(ITEM_ACTIONS_HOOK):
        html = hook(request, item)
        if html:
            actions.append(html)
    return actions
