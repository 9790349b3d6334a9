"""Reads for the portal: every query of partner-visible content goes through visible_to()."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.db.models.lookups import Exact
from django.utils import timezone, translation
from wagtail.models import Locale, Page

from permissions.idquery import count_for_params, param, raw_param, rows_for_params, window
from permissions.policies.pages import page_policy
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
class ListingPage:
    """One page of a library listing and what is known of the total.

    Counting stops after ``PORTAL_LISTING_EXACT_LIMIT`` visible items (bounded work per page, as
    the database search does): beyond it ``count`` is a lower bound (``count_exact`` False, shown
    as "More than N items") and the pager offers the next page while there is one. The last page
    knows its total again (the items before it plus its own).
    """

    object_list: list[PortalItemPage]
    number: int
    count: int
    count_exact: bool
    has_next: bool
    per_page: int

    @property
    def num_pages(self) -> int | None:
        if not self.count_exact:
            return None
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


@dataclass
class Listing:
    page: ListingPage
    products: list[Product]
    subsections: list[LibraryIndexPage]
    kinds: list[tuple[str, str]]
    languages: list[tuple[str, str]]
    selected: dict[str, str] = field(default_factory=dict)


LOCALES_CACHE_KEY = "portal:locales"
PRODUCTS_CACHE_KEY = "portal:products"
# Items beyond this offset are not looked for: the page number is out of range (a database's
# OFFSET is a 64-bit integer).
_MAX_OFFSET = 2**53


def _locales(wanted: int | None = None) -> dict[int, Locale]:
    """Locales by id (cached: they change when a language is added; a miss reloads)."""
    locales = cache.get(LOCALES_CACHE_KEY)
    if locales is None or (wanted is not None and wanted not in locales):
        locales = {locale.pk: locale for locale in Locale.objects.all()}
        cache.set(LOCALES_CACHE_KEY, locales, 3600)
    return locales


def _locale_id(language_code: str, locales: dict[int, Locale]) -> int:
    """The id of the locale ``language_code`` (0, which no locale has, when there is none)."""
    for reload in (False, True):
        if reload:
            locales = _locales(-1)
        for locale in locales.values():
            if locale.language_code == language_code:
                return locale.pk
    return 0


def _set_locales(pages: Iterable[Page], locales: dict[int, Locale]) -> None:
    """Give each page its ``locale`` from ``locales`` (reloaded for an unknown one)."""
    for page in pages:
        if page.locale_id not in locales:
            locales = _locales(page.locale_id)
        page.locale = locales[page.locale_id]


def products_cached(missing: Iterable[int] = ()) -> list[Product]:
    """All products by name, cached until a product is saved or deleted (signal_handlers) and for
    at most a minute (a process with its own local cache); ``missing`` ids force a reload."""
    products = cache.get(PRODUCTS_CACHE_KEY)
    if products is None or not {pk for pk in missing if pk is not None} <= {p.pk for p in products}:
        products = list(Product.objects.order_by("name"))
        cache.set(PRODUCTS_CACHE_KEY, products, 60)
    return products


def _kind_label(kind: str) -> str:
    # Lazy (verbose_name is gettext_lazy): rendered in the language of the template.
    return MODEL_BY_CONTENT_KIND[kind]._meta.verbose_name  # type: ignore[return-value]


def content_language_choices() -> list[tuple[str, str]]:
    """The content languages as (code, name), each named in the active UI language (lazily, so
    a list built once still speaks the language of the template that shows it)."""
    return [
        (code, translation.get_language_info(code)["name_translated"])
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]


def _after_subtree(path: str) -> str:
    """The smallest tree path after every descendant of ``path``: ``path`` with its last step
    incremented (treebeard's fixed-width steps over an ordered alphabet). Items below a section
    are then ``path < x < _after_subtree(path)``, a range of the unique path index (``LIKE
    'path%'`` is not one on SQLite)."""
    alphabet = Page.alphabet
    chars = list(path)
    for position in range(len(chars) - 1, -1, -1):
        index = alphabet.index(chars[position])
        if index + 1 < len(alphabet):
            return "".join(chars[:position]) + alphabet[index + 1]
    raise ValueError(f"no path follows the subtree of {path!r}")


_ITEM_COLUMNS = tuple(f.attname for f in PortalItemPage._meta.concrete_fields)
_SECTION_COLUMNS = tuple(f.attname for f in LibraryIndexPage._meta.concrete_fields)


def _translation_paths(section: LibraryIndexPage) -> list[str]:
    """The tree paths of ``section`` and its translations (``get_translations(inclusive=True)``,
    compiled once)."""

    def build():
        return (
            LibraryIndexPage.objects.filter(translation_key=raw_param("key"))
            .order_by("path")
            .values_list("path")
        )

    # 32 hex digits: how Django stores a UUID on SQLite, and valid uuid input for PostgreSQL.
    values = {"key": section.translation_key.hex}
    return [row[0] for row in rows_for_params(("kb.section_translations",), build, values)]


def locale_cached(locale_id: int) -> Locale:
    """The locale ``locale_id`` from the cache (a page's ``locale`` without a query)."""
    return _locales(locale_id)[locale_id]


def _page_number(raw) -> int | None:
    """``?page=`` as Django's ``Paginator.get_page`` reads it: not a number is page 1, a number
    below 1 the last page (``None``)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else None


def library_listing(*, user, section: LibraryIndexPage, params) -> Listing:
    """Items below ``section`` (and its translations) that ``user`` may see, filtered and paged.

    Each statement (count, rows, sub-sections) is compiled once per shape and entitlement
    (``page_policy.filter_key``) and afterwards only executed with this request's values
    (permissions.idquery): building the entitlement filter is most of a page's work otherwise.
    The count stops at ``PORTAL_LISTING_EXACT_LIMIT``; see ``_item_statements`` for how the rows
    are found. Queries per page do not depend on the catalogue size (bench/listing.py).
    """
    paths = _translation_paths(section)
    locales = _locales(section.locale_id)
    selected: dict[str, str] = {}
    filters: dict[str, object] = {}
    language = params.get("language") or locales[section.locale_id].language_code
    if language != "all":
        selected["language"] = language
        filters["locale"] = _locale_id(language, locales)
    else:
        selected["language"] = "all"
    product = params.get("product")
    if product:
        selected["product"] = filters["product"] = product
    tag = (params.get("tag") or "").strip()
    if tag and len(tag) <= 100:
        selected["tag"] = filters["tag"] = tag
    kind = params.get("type")
    if kind in MODEL_BY_CONTENT_KIND:
        selected["type"] = kind
        filters["type"] = MODEL_BY_CONTENT_KIND[kind]._meta.model_name

    statements = _item_statements(user, paths, filters)
    size = settings.PORTAL_PAGE_SIZE
    bound = settings.PORTAL_LISTING_EXACT_LIMIT
    number = _page_number(params.get("page"))
    counted = statements.count(bound + 1)
    if counted <= bound:
        page = _exact_page(counted, number, size, statements.fetch)
    else:
        found: list[Any] = []
        more = False
        if number is not None and (number - 1) * size <= _MAX_OFFSET:
            found, more = statements.fetch((number - 1) * size, size, dense=True)
        if not found:  # below 1 or past the end: the last page, as Django's paginator answers
            page = _exact_page(statements.count(_MAX_OFFSET), None, size, statements.fetch)
        else:
            asked = cast(int, number)  # rows were fetched only for a page number asked for
            if more:
                seen = (asked - 1) * size + size
                page = ListingPage(found, asked, max(bound, seen), False, True, size)
            else:
                total = (asked - 1) * size + len(found)
                page = ListingPage(found, asked, total, True, False, size)

    products = products_cached(i.product_id for i in page.object_list if i.product_id is not None)
    by_id = {p.pk: p for p in products}
    for item in page.object_list:
        if item.product_id in by_id:
            item.product = by_id[item.product_id]
    _set_locales(page.object_list, locales)
    subsections = _subsections(user, section)
    _set_locales(subsections, locales)
    return Listing(
        page=page,
        products=products,
        subsections=subsections,
        kinds=[(k, _kind_label(k)) for k in MODEL_BY_CONTENT_KIND],
        languages=content_language_choices(),
        selected=selected,
    )


# A page this close to the top of a section with more than PORTAL_LISTING_EXACT_LIMIT visible
# items is found by walking the publication-date index until it is full (a few rows per listed
# item); deeper pages sort the section's visible items (its path range: bounded by the section).
_WALK_ITEMS = 100


@dataclass
class _ItemStatements:
    count: Callable[[int], int]  # visible items, counting at most ``upto``
    # items ``offset`` to ``offset + limit`` (newest first) and whether more follow; ``dense``:
    # there are more than the exact limit
    fetch: Callable[..., tuple[list[PortalItemPage], bool]]


def _item_statements(user, paths: list[str], filters: dict[str, object]) -> _ItemStatements:
    """The count and row statements of one listing: the user's entitlement (``visible_to``), the
    sections' subtrees and the filters.

    Two shapes of the same rows, chosen by what the page needs (both exact): *range* tests each
    item's path against the sections' path ranges (an index range: the database reads the
    sections' items and no others), *walk* tests a prefix of the path (no index applies), so the
    database reads items newest first through the ``last_published_at`` index (kb migration 0007)
    and stops when the page is full. Rows are picked by id in a subquery, so only ids are sorted.
    """
    policy_key = page_policy.filter_key(user)
    names = tuple(sorted(filters))
    depths = tuple(len(path) // Page.steplen for path in paths)
    ranges = {f"from{n}": path for n, path in enumerate(paths)}
    ranges |= {f"to{n}": _after_subtree(path) for n, path in enumerate(paths)}
    prefixes = {f"from{n}": path for n, path in enumerate(paths)}

    def items(walk: bool):
        scope = Q()
        for n, depth in enumerate(depths):
            if walk:
                prefix: Any = Exact(Substr("path", 1, depth * Page.steplen), param(f"from{n}"))
                scope |= Q(prefix, depth__gt=depth)
            else:
                scope |= Q(path__gt=param(f"from{n}"), path__lt=param(f"to{n}"))
        qs = PortalItemPage.objects.live().visible_to(user).filter(scope)
        if "locale" in filters:
            # ``locale_id + 0``: a test per row, not an index the plan would start from.
            qs = qs.alias(listing_locale=F("locale_id") + 0).filter(
                listing_locale=raw_param("locale")
            )
        if "product" in filters:
            qs = qs.filter(product__key=param("product"))
        if "tag" in filters:
            # A join in the same query (a tag slug occurs once per item: no duplicate rows).
            qs = qs.filter(tags__slug=param("tag"))
        if "type" in filters:
            qs = qs.filter(content_type__model=param("type"))
        return qs

    def rows(walk: bool):
        ids = items(walk).order_by("-last_published_at", "-pk").values_list("pk")
        return (
            PortalItemPage.objects.filter(pk__in=window(ids))
            .order_by("-last_published_at", "-pk")
            .values_list(*_ITEM_COLUMNS)
        )

    def count(upto: int) -> int:
        key = ("kb.library_listing.count", policy_key, depths, names)
        build = lambda: items(walk=False).order_by().values_list("pk")  # noqa: E731
        return count_for_params(key, build, ranges | filters, upto=upto)

    def fetch(offset: int, limit: int, dense: bool = False) -> tuple[list[PortalItemPage], bool]:
        walk = dense and offset + limit <= _WALK_ITEMS
        key = ("kb.library_listing.rows", policy_key, depths, names, walk)
        values = (prefixes if walk else ranges) | filters | {"offset": offset}
        found = rows_for_params(key, lambda: rows(walk), values | {"limit": limit + 1})
        items = [PortalItemPage.from_db("default", _ITEM_COLUMNS, row) for row in found[:limit]]
        return items, len(found) > limit

    return _ItemStatements(count=count, fetch=fetch)


def _exact_page(count: int, number: int | None, size: int, fetch) -> ListingPage:
    """A page when the total is known: Django's ``Paginator.get_page`` (out of range: the last)."""
    num_pages = max(1, math.ceil(count / size))
    if number is None or number > num_pages:
        number = num_pages
    found, _ = fetch((number - 1) * size, size)
    return ListingPage(found, number, count, True, number < num_pages, size)


def _subsections(user, section: LibraryIndexPage) -> list[LibraryIndexPage]:
    """The live sections right below ``section`` that ``user`` may see (compiled once per
    entitlement and depth, like the listing)."""

    def build():
        return (
            LibraryIndexPage.objects.live()
            .visible_to(user)
            .filter(path__gt=param("from"), path__lt=param("to"), depth=section.depth + 1)
            # Always true, but it lets the database start from the (few) sections rather than
            # from every page of the subtree.
            .filter(pk__in=LibraryIndexPage.objects.values("pk"))
            .order_by("path")
            .values_list(*_SECTION_COLUMNS)
        )

    key = ("kb.library_subsections", page_policy.filter_key(user), section.depth)
    values = {"from": section.path, "to": _after_subtree(section.path)}
    return [
        LibraryIndexPage.from_db("default", _SECTION_COLUMNS, row)
        for row in rows_for_params(key, build, values)
    ]


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
