"""Reads for the portal: every query of partner-visible content goes through visible_to()."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.db.models.lookups import Exact
from django.utils import timezone, translation
from django.utils.text import capfirst
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page

from files.models import PortalDocument
from permissions.idquery import count_for_params, param, raw_param, rows_for_params, window
from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy

from .models import (
    DownloadEvent,
    ItemAttachment,
    LibraryIndexPage,
    PortalItemPage,
    Product,
    ProductSheetPage,
    ProductSheetVersion,
)
from .models.pages import CONTENT_KIND_BY_MODEL, MODEL_BY_CONTENT_KIND


def _one_per_translation_group(items: list[PortalItemPage], *, prefer: int) -> list[PortalItemPage]:
    """Keep one item per translation group, in the order given: the one in locale ``prefer``
    when the group has it there, else the first."""
    chosen: dict[object, PortalItemPage] = {}
    for item in items:
        current = chosen.get(item.translation_key)
        if current is None or (item.locale_id == prefer and current.locale_id != prefer):
            chosen[item.translation_key] = item
    kept = {id(item) for item in chosen.values()}
    return [item for item in items if id(item) in kept]


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
    # (slug, name) of the tags of items the user may see, and the "updated since" choices.
    tags: list[tuple[str, str]] = field(default_factory=list)
    since_choices: list[int] = field(default_factory=list)
    # The chosen tag is one of ``tags`` (else the filter offers it on its own).
    tag_listed: bool = False
    # Each filter in force, named, with the link that removes it.
    active_filters: list[ActiveFilter] = field(default_factory=list)


@dataclass
class ActiveFilter:
    label: str
    remove_url: str


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
    """Every product row (sources and translations, their locales loaded), cached until a
    product is saved or deleted (signal_handlers) and for at most a minute (a process with its
    own local cache); ``missing`` ids force a reload. Partners see them through
    products_for_language."""
    products = cache.get(PRODUCTS_CACHE_KEY)
    if products is None or not {pk for pk in missing if pk is not None} <= {p.pk for p in products}:
        products = list(Product.objects.select_related("locale").order_by("name"))
        cache.set(PRODUCTS_CACHE_KEY, products, 60)
    return products


def products_for_language(
    language_code: str, missing: Iterable[int] = ()
) -> tuple[list[Product], dict[int, Product]]:
    """The products as a partner reading content in ``language_code`` sees them.

    One per key, by name: the row in the default locale (THE product, which items point at;
    a product that only exists in other locales is represented by its row in
    ``language_code``, else any), whose ``display_name`` is its translation's name in
    ``language_code`` when there is one. And every product row's id (source or translation) ->
    that product, for the items. From products_cached: no query when the cache is warm, one
    when not, however many items and languages.
    """
    default = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    by_key: dict[str, dict[str, Product]] = {}
    for row in products_cached(missing):
        by_key.setdefault(row.key, {})[row.locale.language_code] = row
    products: list[Product] = []
    by_id: dict[int, Product] = {}
    for rows in by_key.values():
        product = rows.get(default) or rows.get(language_code) or next(iter(rows.values()))
        local = rows.get(language_code)
        product._display_name = local.name if local is not None else product.name
        products.append(product)
        by_id.update((row.pk, product) for row in rows.values())
    products.sort(key=lambda p: (p.display_name.casefold(), p.key))
    return products, by_id


def _name_products(items: Iterable[PortalItemPage], language_code: str) -> None:
    """Give each item its product as a partner reading ``language_code`` sees it (at most one
    query for them all: products_for_language)."""
    items = list(items)
    _products, by_id = products_for_language(
        language_code, (i.product_id for i in items if i.product_id is not None)
    )
    for item in items:
        if item.product_id in by_id:
            item.product = by_id[item.product_id]


def item_product(*, item: PortalItemPage) -> Product | None:
    """The item's product named in the item's language (its page's content language)."""
    if item.product_id is None:
        return None
    _name_products([item], locale_cached(item.locale_id).language_code)
    return item.product


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


def default_locale() -> Locale:
    """The default (source) locale, as ``Locale.get_default()`` finds it, from the cached
    locales: ``get_default`` queries every time, and a home, an item page and a search asked
    it two to four times each (issue #16, capacity)."""
    code = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    for locale in _locales().values():
        if locale.language_code == code:
            return locale
    return Locale.get_default()


def _page_number(raw) -> int | None:
    """``?page=`` as Django's ``Paginator.get_page`` reads it: not a number is page 1, a number
    below 1 the last page (``None``)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else None


# "Updated since" filter: the choices (days) a listing offers.
SINCE_DAYS = (7, 30, 90)


def reader_locale_id(section_locale_id: int | None = None) -> int:
    """The content locale of the reader: their UI language's content variant when that is a
    content language, else ``section_locale_id`` (or the default locale). Their items come
    first in the library and win over other translations of the same item."""
    locales = _locales()
    try:
        code = get_supported_content_language_variant(translation.get_language() or "")
    except LookupError:
        code = ""
    found = _locale_id(code, locales) if code else 0
    if found:
        return found
    if section_locale_id:
        return section_locale_id
    return _locale_id(get_supported_content_language_variant(settings.LANGUAGE_CODE), locales)


def _preference(pref: Any, source: Any) -> Case:
    """A translation group's order of preference as a number (lower wins): the reader's
    locale, then the source locale, then any other by id."""
    return Case(
        When(locale_id=pref, then=Value(-2)),
        When(locale_id=source, then=Value(-1)),
        default=F("locale_id"),
        output_field=IntegerField(),
    )


def one_per_group(qs, *, user, pref: Any, source: Any, scope: Q | None = None):
    """``qs`` (visible items) without an item whose translation group has a visible item the
    reader prefers (``_preference``): one entry per group, the reader's translation over the
    source when both are visible. ``scope`` narrows the competing items (a section's subtree).
    ``pref`` / ``source`` are locale ids or ``raw_param`` placeholders."""
    better = (
        PortalItemPage.objects.live()
        .visible_to(user)
        .filter(scope or Q())
        .alias(group_rank=_preference(pref, source))
        .filter(
            translation_key=OuterRef("translation_key"),
            group_rank__lt=OuterRef("listing_rank"),
        )
    )
    return qs.alias(listing_rank=_preference(pref, source)).filter(~Exists(better))


def library_listing(*, user, section: LibraryIndexPage, params) -> Listing:
    """Items below ``section`` (and its translations) that ``user`` may see, filtered and paged.

    By default every language: one entry per translation group (the reader's language over the
    source, ``one_per_group``), the reader's language first, then newest first. ``language=<code>``
    lists one language only.

    Each statement (count, rows, sub-sections) is compiled once per shape and entitlement
    (``page_policy.filter_key``) and afterwards only executed with this request's values
    (permissions.idquery): building the entitlement filter is most of a page's work otherwise.
    The count stops at ``PORTAL_LISTING_EXACT_LIMIT``; see ``_item_statements`` for how the rows
    are found. Queries per page do not depend on the catalogue size (bench/listing.py).
    """
    from .navigation import library_tags, portal_nav

    paths = _translation_paths(section)
    locales = _locales(section.locale_id)
    selected: dict[str, str] = {}
    filters: dict[str, object] = {}
    pref = reader_locale_id(section.locale_id)
    language = params.get("language") or "all"
    if language != "all":
        selected["language"] = language
        filters["locale"] = _locale_id(language, locales)
    else:
        selected["language"] = "all"
        filters["pref"] = pref
        filters["source"] = _locale_id(
            get_supported_content_language_variant(settings.LANGUAGE_CODE), locales
        )
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
    since = params.get("since")
    if since in {str(days) for days in SINCE_DAYS}:
        selected["since"] = since
        # Whole minutes: the value is a parameter of a compiled statement (no per-request
        # compile) and the same for a minute of requests.
        moment = (timezone.now() - timedelta(days=int(since))).replace(second=0, microsecond=0)
        filters["since"] = connection.ops.adapt_datetimefield_value(moment)

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

    # The section's content language names the products (filter and cards), not the UI's.
    products, by_id = products_for_language(
        locales[section.locale_id].language_code,
        (i.product_id for i in page.object_list if i.product_id is not None),
    )
    for item in page.object_list:
        if item.product_id in by_id:
            item.product = by_id[item.product_id]
    _set_locales(page.object_list, locales)
    subsections = _subsections(user, section)
    _set_locales(subsections, locales)
    # Only products, kinds and tags with an item the user may see are offered (the header's
    # cached counts): a filter never names a product the user has nothing of.
    nav = portal_nav(user=user, locale_id=pref)
    visible_products = {p.key for p in nav.products}
    kinds_seen = {k.key for k in nav.kinds}
    tags = library_tags(user=user)
    return Listing(
        page=page,
        products=[p for p in products if p.key in visible_products or p.key == product],
        subsections=subsections,
        kinds=[(k, _kind_label(k)) for k in MODEL_BY_CONTENT_KIND if k in kinds_seen or k == kind],
        languages=content_language_choices(),
        selected=selected,
        tags=tags,
        since_choices=list(SINCE_DAYS),
        tag_listed=any(slug == selected.get("tag") for slug, _name in tags),
        active_filters=_active_filters(selected, products, tags),
    )


def _active_filters(
    selected: dict[str, str], products: list[Product], tags: list[tuple[str, str]]
) -> list[ActiveFilter]:
    """The filters in force (all but the default "all languages"), each named in the UI
    language, with a link to the same listing without it (back to its first page)."""
    from urllib.parse import urlencode

    names: dict[str, Callable[[str], str]] = {
        "type": lambda v: str(capfirst(_kind_label(v))),
        "product": lambda v: next((p.display_name for p in products if p.key == v), v),
        "tag": lambda v: next((name for slug, name in tags if slug == v), v),
        "language": lambda v: dict(content_language_choices()).get(v, v),
        "since": lambda v: (
            translation.ngettext(
                "Updated in the last %(days)d day", "Updated in the last %(days)d days", int(v)
            )
            % {"days": int(v)}
        ),
    }
    found = []
    for name, value in selected.items():
        if name == "language" and value == "all":
            continue
        rest = {k: v for k, v in selected.items() if k != name}
        found.append(ActiveFilter(names[name](value), "?" + urlencode(rest)))
    return found


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
        if "pref" in filters:
            # Every language: one per translation group (within the sections' subtrees).
            qs = one_per_group(
                qs, user=user, pref=raw_param("pref"), source=raw_param("source"), scope=scope
            )
        if "since" in filters:
            qs = qs.filter(last_published_at__gte=raw_param("since"))
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
        order = ["-last_published_at", "-pk"]
        outer = PortalItemPage.objects.all()
        inner = items(walk)
        if "pref" in filters:
            # The reader's language first (then newest first).
            first = Case(
                When(locale_id=raw_param("pref"), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
            inner = inner.alias(reader_first=first)
            outer = outer.alias(reader_first=first)
            order = ["reader_first", *order]
        ids = inner.order_by(*order).values_list("pk")
        return outer.filter(pk__in=window(ids)).order_by(*order).values_list(*_ITEM_COLUMNS)

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
    # On a translation: the file is the source's (no localized file yet), shown with a note.
    not_in_language: bool = False
    # A localized file whose master has changed since it was made ("may be out of date").
    out_of_date: bool = False
    # The version served at ``url`` (the stable URL is keyed by the file's lineage).
    lineage: int = 0
    version_number: int = 1
    version_label: str = ""
    expire_at: datetime | None = None
    # The page whose file it is (the item, or its source / translation), as in ``url``.
    page_id: int = 0
    # What the user last downloaded of it (``item_file_downloads``); None: never downloaded.
    downloaded: FileDownload | None = None


def translation_source(item: Page) -> PortalItemPage | None:
    """The source of ``item``'s translation group (its page in the default locale), or None
    when ``item`` is itself in the default locale or its source is gone."""
    default = default_locale()
    if item.locale_id == default.pk:
        return None
    return (
        PortalItemPage.objects.filter(translation_key=item.translation_key, locale_id=default.pk)
        .select_related("locale")
        .first()
    )


@dataclass(frozen=True)
class LocalizedAsset:
    """What readers of ``item`` get for one of its single-file fields (``localized_asset``)."""

    file: Any  # PortalDocument | PortalImage | None
    page: PortalItemPage  # the page whose file it is (the item, or its source)
    # On a translation: the file is the source's (nothing localized yet), shown with a note.
    not_in_language: bool = False
    # A localized file whose source file has changed since ("may be out of date").
    out_of_date: bool = False


def localized_asset(
    item: PortalItemPage, which: str, *, source: PortalItemPage | None = None
) -> LocalizedAsset:
    """``item``'s file in field ``which`` (a key of ``localized_asset_fields``: a marketing
    asset's ``master_document`` / ``master_image``, an item's ``cover_image``) as readers get it.

    A source (or an item whose type has no such field) gives its own. A translation gives its
    own file once localized (``<which>_source_sha256`` set, by
    ``kb.services.localized_asset_file_attach``), ``out_of_date`` when the source's current file
    has another SHA-256; otherwise the source's current file, ``not_in_language``. ``source``
    saves the query when the caller has it.
    """
    item = item.specific
    own = getattr(item, which, None)
    if which not in getattr(item, "localized_asset_fields", {}):
        return LocalizedAsset(own, item)
    if source is None:
        source = translation_source(item)
    if source is None:
        return LocalizedAsset(own, item)
    source = source.specific
    master = getattr(source, which, None)
    recorded = getattr(item, f"{which}_source_sha256")
    if recorded and own is not None:
        stale = master is not None and master.get_sha256() != recorded
        return LocalizedAsset(own, item, out_of_date=stale)
    return LocalizedAsset(master, source, not_in_language=master is not None)


def stale_asset_counts(translation_ids: list[int]) -> dict[int, int]:
    """Per translation id: how many of its localized asset files (``localized_asset``) are out
    of date. A fixed number of queries for any number of translations (translation tasks)."""
    from .models import MarketingAssetPage

    fields = dict(MarketingAssetPage.localized_asset_fields)
    shas = [f"{name}_source_sha256" for name in fields]
    localized = Q()
    for sha in shas:
        localized |= ~Q(**{sha: ""})
    rows = list(
        MarketingAssetPage.objects.filter(localized, pk__in=translation_ids).values(
            "pk", "translation_key", *shas
        )
    )
    covers = list(
        PortalItemPage.objects.filter(pk__in=translation_ids)
        .exclude(cover_image_source_sha256="")
        .exclude(pk__in=[row["pk"] for row in rows])
        .values("pk", "translation_key", "cover_image_source_sha256")
    )
    if not rows and not covers:
        return {}
    keys = {row["translation_key"] for row in rows + covers}
    default = Locale.get_default()
    current: dict[Any, dict[str, str | None]] = {}
    for key, cover in PortalItemPage.objects.filter(
        translation_key__in=keys, locale=default
    ).values_list("translation_key", "cover_image__sha256"):
        current[key] = {"cover_image": cover}
    for key, document, picture in MarketingAssetPage.objects.filter(
        translation_key__in=keys, locale=default
    ).values_list("translation_key", "master_document__sha256", "master_image__sha256"):
        current.setdefault(key, {}).update(master_document=document, master_image=picture)
    counts: dict[int, int] = {}
    for row in rows + covers:
        now = current.get(row["translation_key"], {})
        n = 0
        for name in fields:
            recorded = row.get(f"{name}_source_sha256")
            # A source file without a known SHA-256 (not read yet) is not taken for a change.
            n += bool(recorded and now.get(name) not in (None, "", recorded))
        if n:
            counts[row["pk"]] = n
    return counts


def item_files(*, user, item: PortalItemPage) -> dict:
    """The item's downloadable files, the user's language first; a note when it has none.

    On a translation the files are the source's attachments in the source's order, each replaced
    by its localized file (an attachment of the translation whose ``master`` it is) when there
    is one; otherwise the source's file is offered at its own stable URL with a "not yet
    available in your language" note. A localized file whose master changed since is flagged
    ``out_of_date``. The translation's own files without a master follow. Bounded: three
    queries for a translation, one for a source (plus the locale).
    """

    wanted = getattr(user, "preferred_language", None) or "en"
    language = locale_cached(item.locale_id).language_code
    files: list[ItemFile] = []
    source = translation_source(item)
    # A marketing asset's master document: the translation's localized one, else the source's
    # at the source's URL with the note (``localized_asset``).
    asset = localized_asset(item, "master_document", source=source)
    master = asset.file
    if master is not None:
        code = locale_cached(asset.page.locale_id).language_code
        files.append(
            ItemFile(
                None,
                master.pk,
                master.title,
                master.filename,
                code,
                master.file_size,
                download_url(asset.page, master),
                code == wanted,
                page_id=asset.page.pk,
                not_in_language=asset.not_in_language,
                out_of_date=asset.out_of_date,
                lineage=master.lineage or master.pk,
                version_number=master.version_number,
                version_label=master.version_label,
                expire_at=master.expire_at,
            )
        )

    def entry(page, att, **flags) -> ItemFile:
        doc = att.document
        code = locale_cached(page.locale_id).language_code
        return ItemFile(
            att.pk,
            doc.pk,
            att.title or doc.title,
            doc.filename,
            code,
            doc.file_size,
            download_url(page, doc),
            code == wanted,
            lineage=doc.lineage or doc.pk,
            version_number=doc.version_number,
            version_label=doc.version_label,
            expire_at=doc.expire_at,
            page_id=page.pk,
            **flags,
        )

    own = list(item.attachments.select_related("document").order_by("sort_order", "pk"))
    if source is not None:
        localized = {att.master_id: att for att in own if att.master_id is not None}
        masters = source.attachments.select_related("document").order_by("sort_order", "pk")
        used = set()
        for master_att in masters:
            att = localized.get(master_att.pk)
            if att is None:
                files.append(entry(source, master_att, not_in_language=True))
            else:
                used.add(att.pk)
                stale = att.master_sha256 != master_att.document.sha256
                files.append(entry(item, att, out_of_date=stale))
        own = [att for att in own if att.pk not in used]
    elif wanted != language and own:
        files += _localized_for_reader(user, item, own, wanted, entry)
    files += [entry(item, att) for att in own]
    # An expired version is withdrawn (staff still see it listed): the policy says so.
    files = [
        f
        for f in files
        if f.expire_at is None or document_policy.can_have_version(user, _DocumentLike(f))
    ]
    files.sort(key=lambda f: (not f.preferred,))
    has_wanted = any(f.language == wanted for f in files)
    return {
        "files": files,
        "language": wanted,
        # On a translation each file says so itself; on a source, one note for the list.
        "fallback_note": source is None and bool(files) and not has_wanted and wanted != "en",
    }


@dataclass
class _DocumentLike:
    """What ``document_policy.can_have_version`` reads of a listed file (its expiry)."""

    file: ItemFile

    def is_expired(self) -> bool:
        return self.file.expire_at is not None and self.file.expire_at <= timezone.now()


def download_url(page: Page, document) -> str:
    """The stable download URL of ``document``'s file on ``page``: keyed by the file's lineage
    (its first version), so every later version is served at the same URL."""
    from django.urls import reverse

    name = document.stable_name or document.filename
    return reverse("kb:download", args=[page.pk, document.lineage or document.pk, name])


def item_file_current(item: Page, lineage: int) -> PortalDocument | None:
    """The version of file ``lineage`` that ``item``'s PUBLISHED state uses (an attachment's
    document, or a marketing asset's master), or None when the item has no such file.

    Pending versions live only in draft revisions, so they are never found here; whether the
    user may have the one found (visibility, expiry) is the policy's to say."""
    attachment = (
        ItemAttachment.objects.filter(page_id=item.pk, document__lineage=lineage)
        .select_related("document")
        .first()
    )
    if attachment is not None:
        return attachment.document
    master_id = getattr(item.specific, "master_document_id", None)
    if master_id is None:
        return None
    master = PortalDocument.objects.filter(pk=master_id, lineage=lineage).first()
    return master


def _localized_for_reader(user, item: PortalItemPage, own: list, wanted: str, entry) -> list:
    """On a source item: the localized files of its translation in the reader's language, when
    that translation is live and the reader may see it (then listed first, downloaded from
    the translation). Two queries, only for readers of another language."""
    locale_id = _locale_id(wanted, _locales())
    if not locale_id:
        return []
    translation = (
        PortalItemPage.objects.live()
        .filter(translation_key=item.translation_key, locale_id=locale_id)
        .first()
    )
    if translation is None or not page_policy.can_view(user, translation):
        return []
    masters = {att.pk: att for att in own}
    found = []
    for att in (
        translation.attachments.filter(master_id__in=list(masters))
        .select_related("document")
        .order_by("sort_order", "pk")
    ):
        stale = att.master_sha256 != masters[att.master_id].document.sha256
        found.append(entry(translation, att, out_of_date=stale))
    return found


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


# --- what a partner downloaded: changed since, withdrawn since ---------------------------------
#
# Read from the user's own DownloadEvent rows (each records the item, the file's lineage, the
# version and the item's title then), in a fixed number of queries however many downloads they
# made: the newest download per (item, file) is found in SQL (a window), never row by row in
# Python. Whether the user may still have the item is page_policy's answer (``visible_to``), and
# whether a version may still be served is document_policy's (its queryset filter); the item's
# own expiry is also read here, so an expired item counts as withdrawn before any scheduler ran.


@dataclass(frozen=True)
class VersionChange:
    """One version of a file newer than the one a partner has: its number, label and notes."""

    number: int
    label: str
    notes: str


@dataclass
class FileDownload:
    """What ``user`` last downloaded of one listed file (``ItemFile.downloaded``)."""

    version_number: int
    downloaded_at: datetime
    current: bool  # they have the version served now
    # When not current: the versions after theirs up to the one served, newest first.
    changes: list[VersionChange] = field(default_factory=list)


@dataclass
class DownloadUpdate:
    """A file the user downloaded whose served version is newer than theirs ("v2 → v3")."""

    item: PortalItemPage  # visible to the user now (the link may be shown)
    title_seen: str  # the item's title at their last download of this file
    lineage: int
    file_title: str
    old_version: int
    old_label: str
    new_version: int
    new_label: str
    changes: list[VersionChange]  # newest first
    downloaded_at: datetime
    when: datetime | None  # when partners got the new version (the item's last publish)

    @property
    def note(self) -> str:
        """The notes of the newer versions, newest first, one per line."""
        return "\n".join(change.notes for change in self.changes if change.notes)


@dataclass
class DownloadWithdrawal:
    """Something the user downloaded that they can no longer get.

    ``lineage`` None: the whole item is withdrawn (expired, unpublished, deleted or no longer
    visible to them); it is named only by ``title_seen`` and never linked, since they may not
    open it. Otherwise one file of an item they still see was withdrawn (its version expired,
    or the file was removed from the item): ``item`` is that item, ``file_title`` the file.
    """

    title_seen: str
    item_id: int
    lineage: int | None
    version_number: int | None
    downloaded_at: datetime
    # When it was withdrawn, as far as is known (an expiry, the item's unpublish or deletion,
    # the publish that changed it); None when nothing records it (an organisation's grant
    # removed, say).
    when: datetime | None
    item: PortalItemPage | None = None
    file_title: str = ""
    # (A whole item) the file of the newest download from it: downloading that file again from
    # another item takes the entry off the list (kb.home's cache reads it, nothing shows it).
    event_lineage: int | None = None

    @property
    def whole_item(self) -> bool:
        return self.lineage is None


# What Wagtail logs when an item stops being live (kept after the page is deleted).
_WITHDRAW_ACTIONS = ("wagtail.unpublish", "wagtail.unpublish.scheduled", "wagtail.delete")


def _servable_items(user, now: datetime):
    """The items ``user`` may see now (page_policy), not past their own expiry (read directly
    too, so expiry holds before any scheduler has unpublished them)."""
    return (
        PortalItemPage.objects.live()
        .visible_to(user)
        .filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
    )


def _newest_per(events, *partition: str):
    """The pk of the user's newest download per ``partition`` (a window: one statement)."""
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    ranked = events.annotate(
        newest=Window(
            RowNumber(),
            partition_by=[F(name) for name in partition],
            order_by=[F("downloaded_at").desc(), F("pk").desc()],
        )
    )
    return ranked.filter(newest=1).values("pk")


def _version_changes(pairs: Iterable[tuple[int, int, int]]) -> dict[tuple[int, int], list]:
    """For each (lineage, old, new): the versions ``old < n <= new``, newest first, keyed by
    (lineage, old); and each old version itself under (lineage, -old) (its label). One query."""
    pairs = list(pairs)
    if not pairs:
        return {}
    wanted = Q()
    for lineage, old, new in pairs:
        wanted |= Q(lineage=lineage, version_number__gte=old, version_number__lte=new)
    rows = PortalDocument.objects.filter(wanted).order_by("-version_number")
    found: dict[tuple[int, int], list] = {}
    versions = list(rows.values_list("lineage", "version_number", "version_label", "version_notes"))
    for lineage, old, new in pairs:
        for row_lineage, number, label, notes in versions:
            if row_lineage != lineage:
                continue
            if number == old:
                found[(lineage, -old)] = [VersionChange(number, label, notes)]
            elif old < number <= new:
                found.setdefault((lineage, old), []).append(VersionChange(number, label, notes))
    return found


def item_changes_since(item: PortalItemPage, since: datetime) -> list[VersionChange]:
    """What changed on ``item`` itself since ``since``, beyond its files' version notes.

    The seam for product sheets' changelog entries (issue #12 deliverable 3, being added by
    another change): once a sheet's publishes carry a version label and a "what changed" note,
    return the entries published after ``since`` here (newest first) and the item page and the
    home show them with the files' notes. Until then nothing: the files' notes say it all.
    """
    return []


def item_file_downloads(*, user, item: PortalItemPage, files: list[ItemFile]) -> None:
    """Tell each of ``files`` (``item_files``) what ``user`` last downloaded of it
    (``ItemFile.downloaded``: their version and when, whether it is the one served now, and
    the newer versions' notes). Two queries at most (one without downloads), however many
    files and downloads: the user's newest download per file of this item, then the notes."""
    if not files or not getattr(user, "is_authenticated", False):
        return
    pages = {f.page_id or item.pk for f in files}
    seen = {
        row["lineage"]: row
        for row in DownloadEvent.objects.filter(
            user_id=user.pk,
            item_id__in=pages,
            lineage__in={f.lineage for f in files},
            version_number__isnull=False,
        )
        .values("lineage")
        .annotate(version=Max("version_number"), at=Max("downloaded_at"))
        .order_by()
    }
    if not seen:
        return
    stale = [
        (f.lineage, seen[f.lineage]["version"], f.version_number)
        for f in files
        if f.lineage in seen and seen[f.lineage]["version"] < f.version_number
    ]
    changes = _version_changes(stale)
    for f in files:
        row = seen.get(f.lineage)
        if row is None:
            continue
        current = row["version"] >= f.version_number
        f.downloaded = FileDownload(
            row["version"],
            row["at"],
            current,
            [] if current else changes.get((f.lineage, row["version"]), []),
        )
        if not current:
            f.downloaded.changes += item_changes_since(item, row["at"])


def downloads_updated(user, since: datetime | None = None, limit: int = 8) -> list[DownloadUpdate]:
    """The files ``user`` downloaded whose served version is now newer than the newest they
    downloaded, newest update first: per (item, file), on items they may still see, versions
    that may be served (not expired). A file whose current version they already downloaded
    (from this or another item) is not listed. ``since``: only updates partners got after it
    (the item's last publish, which is when a revision adopting a version goes live).

    Three queries, whatever the number of downloads (the home page and the digest call it).
    """
    if not getattr(user, "is_authenticated", False):
        return []
    now = timezone.now()
    events = DownloadEvent.objects.filter(user_id=user.pk)
    items = _servable_items(user, now).filter(pk__in=events.values("item_id")).values("pk")

    def newest(page_ref: str, lineage_ref: str, name: str):
        # A field of the user's newest download of this file of this item.
        return Subquery(
            events.filter(item_id=OuterRef(page_ref), lineage=OuterRef(lineage_ref))
            .order_by("-downloaded_at", "-pk")
            .values(name)[:1]
        )

    def has_current(lineage_ref: str, version_ref: str):
        # They already have the served version (downloaded from this item or another).
        return Exists(
            events.filter(lineage=OuterRef(lineage_ref), version_number__gte=OuterRef(version_ref))
        )

    def seen_max(page_ref: str, lineage_ref: str):
        return Subquery(
            events.filter(item_id=OuterRef(page_ref), lineage=OuterRef(lineage_ref))
            .order_by()
            .values("lineage")
            .annotate(v=Max("version_number"))
            .values("v")[:1]
        )

    attachments = (
        ItemAttachment.objects.filter(page_id__in=items)
        .filter(document_policy.servable_version_q("document__", now))
        .annotate(
            seen=seen_max("page_id", "document__lineage"),
            seen_at=newest("page_id", "document__lineage", "downloaded_at"),
            title_seen=newest("page_id", "document__lineage", "title_seen"),
        )
        .filter(seen__isnull=False, seen__lt=F("document__version_number"))
        .exclude(has_current("document__lineage", "document__version_number"))
        .select_related("document", "page")
        .order_by("-page__last_published_at", "pk")
    )
    from .models import MarketingAssetPage

    masters = (
        MarketingAssetPage.objects.filter(pk__in=items)
        .filter(document_policy.servable_version_q("master_document__", now))
        .annotate(
            seen=seen_max("pk", "master_document__lineage"),
            seen_at=newest("pk", "master_document__lineage", "downloaded_at"),
            title_seen=newest("pk", "master_document__lineage", "title_seen"),
        )
        .filter(seen__isnull=False, seen__lt=F("master_document__version_number"))
        .exclude(has_current("master_document__lineage", "master_document__version_number"))
        .select_related("master_document")
        .order_by("-last_published_at", "pk")
    )
    if since is not None:
        attachments = attachments.filter(page__last_published_at__gte=since)
        masters = masters.filter(last_published_at__gte=since)
    found: list[tuple[PortalItemPage, Any, str, int, datetime, str]] = []
    for att in attachments[:limit]:
        doc = att.document
        found.append((att.page, doc, att.title or doc.title, att.seen, att.seen_at, att.title_seen))
    for page in masters[:limit]:
        doc = cast(PortalDocument, page.master_document)  # filtered on: never None here
        found.append((page, doc, doc.title, page.seen, page.seen_at, page.title_seen))
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda row: (row[0].last_published_at or epoch, row[0].pk), reverse=True)
    found = found[:limit]
    changes = _version_changes(
        (doc.lineage, seen, doc.version_number) for _p, doc, _t, seen, *_ in found
    )
    updates = []
    for page, doc, file_title, seen, seen_at, title_seen in found:
        old = changes.get((doc.lineage, -seen), [VersionChange(seen, "", "")])[0]
        newer = changes.get((doc.lineage, seen), [])
        updates.append(
            DownloadUpdate(
                item=page,
                title_seen=title_seen or page.title,
                lineage=doc.lineage,
                file_title=file_title,
                old_version=seen,
                old_label=old.label,
                new_version=doc.version_number,
                new_label=doc.version_label,
                changes=newer + item_changes_since(page, seen_at),
                downloaded_at=seen_at,
                when=page.last_published_at,
            )
        )
    return updates


def downloads_withdrawn(
    user, since: datetime | None = None, limit: int = 8
) -> list[DownloadWithdrawal]:
    """What ``user`` downloaded and can no longer get, newest first (CLARIFICATIONS 8).

    - A whole item (one entry per item): expired, unpublished, deleted, or no longer visible
      to them (page_policy). Named by the title they saw at their last download of it, never
      the current title, never linked.
    - A file of an item they still see (one entry per file): its served version expired, or the
      file was removed from the item.

    Their own history counts as known: an item is not listed when they downloaded the same file
    later from another item; a file is not listed when they downloaded it later from another
    item, or downloaded something else from the item after it was withdrawn (the replacement).
    ``since``: only withdrawals known to have happened after it (``when``).

    Three queries, whatever the number of downloads (the home page and the digest call it).
    """
    from django.db.models import Case, DateTimeField, When
    from django.db.models.functions import Coalesce
    from wagtail.models import PageLogEntry

    from .models import MarketingAssetPage

    if not getattr(user, "is_authenticated", False):
        return []
    now = timezone.now()
    events = DownloadEvent.objects.filter(user_id=user.pk)
    servable_items = _servable_items(user, now).values("pk")
    page = Page.objects.filter(pk=OuterRef("item_id"))

    def later_elsewhere():
        # The same file downloaded again later from another item: they have it.
        return Exists(
            events.filter(
                lineage=OuterRef("lineage"), downloaded_at__gt=OuterRef("downloaded_at")
            ).exclude(item_id=OuterRef("item_id"))
        )

    # Whole items: the newest download per item whose item they can no longer open.
    page_expire = Subquery(page.values("expire_at")[:1])
    published = Subquery(page.values("last_published_at")[:1])
    logged = Subquery(
        PageLogEntry.objects.filter(
            page_id=OuterRef("item_id"),
            action__in=_WITHDRAW_ACTIONS,
            timestamp__gt=OuterRef("downloaded_at"),
        )
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )
    items = (
        DownloadEvent.objects.filter(pk__in=_newest_per(events, "item_id"))
        .exclude(item_id__in=servable_items)
        .exclude(Q(lineage__isnull=False) & later_elsewhere())
        .alias(page_expire=page_expire, logged=logged, published=published)
        .annotate(
            when=Coalesce(
                Case(When(Q(page_expire__lte=now), then=F("page_expire"))),
                "logged",
                Case(When(Q(published__gt=F("downloaded_at")), then=F("published"))),
                output_field=DateTimeField(),
            )
        )
    )
    # Files of items they still see: the newest download per (item, file) whose file the item
    # no longer serves them.
    attachment = ItemAttachment.objects.filter(
        page_id=OuterRef("item_id"), document__lineage=OuterRef("lineage")
    )
    master = MarketingAssetPage.objects.filter(
        pk=OuterRef("item_id"), master_document__lineage=OuterRef("lineage")
    )
    files = (
        DownloadEvent.objects.filter(
            pk__in=_newest_per(events.exclude(lineage__isnull=True), "item_id", "lineage"),
            item_id__in=servable_items,
        )
        .exclude(Exists(attachment.filter(document_policy.servable_version_q("document__", now))))
        .exclude(
            Exists(master.filter(document_policy.servable_version_q("master_document__", now)))
        )
        .exclude(later_elsewhere())
        .annotate(
            # Withdrawn when its version expired, else when the item was published without it.
            when=Coalesce(
                Subquery(attachment.values("document__expire_at")[:1]),
                Subquery(master.values("master_document__expire_at")[:1]),
                published,
                output_field=DateTimeField(),
            ),
            file_title=Coalesce(
                Subquery(
                    PortalDocument.objects.filter(lineage=OuterRef("lineage"))
                    .order_by("-version_number")
                    .values("title")[:1]
                ),
                Value(""),  # every version deleted: the file is not named
            ),
        )
        # The replacement: anything else downloaded from the item after the withdrawal.
        .exclude(
            Exists(
                events.filter(
                    item_id=OuterRef("item_id"), downloaded_at__gte=OuterRef("when")
                ).exclude(lineage=OuterRef("lineage"))
            )
        )
    )
    if since is not None:
        items = items.filter(when__gte=since)
        files = files.filter(when__gte=since)
    newest_first = [Coalesce("when", "downloaded_at").desc(), F("pk").desc()]
    found: list[DownloadWithdrawal] = []
    for event in items.order_by(*newest_first)[:limit]:
        found.append(
            DownloadWithdrawal(
                title_seen=event.title_seen,
                item_id=event.item_id,
                lineage=None,
                version_number=None,
                downloaded_at=event.downloaded_at,
                when=event.when,
                event_lineage=event.lineage,
            )
        )
    file_rows = list(files.order_by(*newest_first)[:limit])
    # The items still visible: linked (one query; none when no file was withdrawn).
    pages = (
        {p.pk: p for p in PortalItemPage.objects.filter(pk__in={e.item_id for e in file_rows})}
        if file_rows
        else {}
    )
    for row in file_rows:
        found.append(
            DownloadWithdrawal(
                title_seen=row.title_seen,
                item_id=row.item_id,
                lineage=row.lineage,
                version_number=row.version_number,
                downloaded_at=row.downloaded_at,
                when=row.when,
                item=pages.get(row.item_id),
                file_title=row.file_title,
            )
        )
    found.sort(key=lambda w: (w.when or w.downloaded_at, w.downloaded_at), reverse=True)
    return found[:limit]


@dataclass
class SheetHistory:
    """A product sheet's version history as its page shows it (``product_sheet_history``)."""

    current: ProductSheetVersion | None  # the live version (newest entry)
    entries: list[ProductSheetVersion]  # newest first: the latest few, or one page of all
    full: bool  # the paginated full history (else the latest few)
    has_more: bool = False  # (latest few) older entries exist: link the full history
    page: Any = None  # (full) django.core.paginator.Page


def product_sheet_history(
    *, sheet: ProductSheetPage, full: bool = False, page_number: str | int | None = None
) -> SheetHistory:
    """The versions of ``sheet`` partners read on it, newest first: the latest
    ``HISTORY_LATEST`` (one query), or page ``page_number`` of all of them (a count and one
    page), so a sheet with a thousand versions costs what one with a few does.

    The caller has already decided the reader may see ``sheet`` (the page itself is served
    through permissions.policies); entries carry nothing the sheet does not."""
    from django.core.paginator import Paginator

    history = ProductSheetVersion.objects.filter(page_id=sheet.pk).only(
        "id", "page_id", "version_label", "note", "published_at"
    )
    if not full:
        rows = list(history[: sheet.HISTORY_LATEST + 1])
        entries = rows[: sheet.HISTORY_LATEST]
        return SheetHistory(
            current=entries[0] if entries else None,
            entries=entries,
            full=False,
            has_more=len(rows) > len(entries),
        )
    page = Paginator(history, sheet.HISTORY_PAGE_SIZE).get_page(page_number)
    entries = list(page.object_list)
    if page.number == 1:
        current = entries[0] if entries else None
    else:
        current = history.first()
    return SheetHistory(current=current, entries=entries, full=True, page=page)
