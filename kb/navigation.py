"""Reads for finding one's way: the header navigation (sections, products and kinds with the
counts of what the user may see), the tags a library offers as a filter, a product's page and the
breadcrumbs of library, item and product pages.

Everything here goes through ``visible_to`` (permissions.policies.pages): nothing the user may
not see is named or counted. Counts are per translation group (``selectors.one_per_group``), as
the library lists them. The navigation and the tags are a few grouped queries, cached per
entitlement (``page_policy.filter_key``) and reader locale for a minute and dropped when content
or access changes (``nav_forget``, kb.signal_handlers).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Page

from permissions.policies.pages import page_policy
from permissions.policies.principal import principal_for

from .models import LibraryIndexPage, PortalItemPage
from .models.pages import MODEL_BY_CONTENT_KIND
from .selectors import (
    _SECTION_COLUMNS,
    _locale_id,
    _locales,
    _set_locales,
    locale_cached,
    one_per_group,
    products_for_language,
    reader_locale_id,
)

NAV_GENERATION_KEY = "portal:nav:generation"
# How long a user group's navigation is kept at most: a count may lag behind an item's expiry
# (a time, not an event) by this long; every publish, unpublish, move, delete and access change
# drops it at once (nav_forget).
NAV_TTL = 60
# The tags offered by the library's tag filter: the most used ones.
TAG_CHOICES = 40
# Items per kind on a product page (the library, filtered by the product, lists them all).
PRODUCT_PAGE_ITEMS = 50


@dataclass
class NavLink:
    """One entry of the navigation: what it names, where it goes, how many visible items."""

    key: str
    title: str
    url: str
    count: int
    language: str = ""  # the content language of ``title`` (a section's), for ``lang``

    @property
    def label(self) -> Any:
        """A kind's name in the active (UI) language; other links' titles as they are."""
        model = MODEL_BY_CONTENT_KIND.get(self.key)
        return model._meta.verbose_name_plural if model is not None else self.title


@dataclass
class PortalNav:
    library: NavLink | None = None
    sections: list[NavLink] = field(default_factory=list)
    products: list[NavLink] = field(default_factory=list)
    kinds: list[NavLink] = field(default_factory=list)


def nav_forget(**kwargs) -> None:
    """Drop every cached navigation and tag list (a new generation of keys): content or access
    changed. Receiver of kb.signal_handlers."""
    try:
        cache.incr(NAV_GENERATION_KEY)
    except ValueError:
        cache.set(NAV_GENERATION_KEY, 1, None)


def _cache_key(name: str, user, locale_id: int) -> str:
    generation = cache.get(NAV_GENERATION_KEY, 0)
    # A digest, not hash(): the same key in every process sharing the cache, and no collision
    # between two entitlements (one user's counts never served to another).
    audience = hashlib.sha256(repr((page_policy.filter_key(user), locale_id)).encode()).hexdigest()
    return f"portal:nav:{name}:{generation}:{audience}"


def _source_locale_id() -> int:
    return _locale_id(get_supported_content_language_variant(settings.LANGUAGE_CODE), _locales())


def _visible_sections(user) -> list[LibraryIndexPage]:
    """Every library section ``user`` may see, in every locale (one query; sections are few:
    editors make them, not imports)."""
    rows = (
        LibraryIndexPage.objects.live()
        .visible_to(user)
        .order_by("path")
        .values_list(*_SECTION_COLUMNS)
    )
    return [LibraryIndexPage.from_db("default", _SECTION_COLUMNS, row) for row in rows]


def _pick(pages: list, pref: int, source: int):
    """The page of a translation group the reader prefers: theirs, the source, else the first."""
    by_locale = {page.locale_id: page for page in pages}
    return by_locale.get(pref) or by_locale.get(source) or pages[0]


def portal_nav(*, user, locale_id: int | None = None) -> PortalNav:
    """The header navigation of ``user`` reading ``locale_id`` (default: their reader locale).

    Sections of the library (titled in the reader's language where translated), products and
    kinds, each with the number of items ``user`` may see (one per translation group), and only
    those with at least one (sections: those the user may see). Two queries on a cache miss (the
    sections, and the visible items grouped by section, product and kind), none on a hit.
    """
    if principal_for(user).kind == "suspended":
        return PortalNav()
    pref = locale_id or reader_locale_id()
    key = _cache_key("nav", user, pref)
    nav = cache.get(key)
    if nav is None:
        nav = _build_nav(user, pref)
        cache.set(key, nav, NAV_TTL)
    return nav


def _build_nav(user, pref: int) -> PortalNav:
    locales = _locales(pref)
    source = _source_locale_id()
    sections = _visible_sections(user)
    if not sections:
        return PortalNav()
    _set_locales(sections, locales)
    top_depth = min(s.depth for s in sections)
    tops = [s for s in sections if s.depth == top_depth]
    children = [s for s in sections if s.depth == top_depth + 1]
    section_len = (top_depth + 1) * Page.steplen

    items = one_per_group(
        PortalItemPage.objects.live().visible_to(user), user=user, pref=pref, source=source
    )
    grouped = (
        items.annotate(section_path=Substr("path", 1, section_len))
        .values("section_path", "product_id", "content_type_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_section: dict[str, int] = {}
    per_product: dict[int, int] = {}
    per_type: dict[int, int] = {}
    total = 0
    top_paths = tuple(top.path for top in tops)
    for row in grouped:
        n = row["n"]
        if not row["section_path"].startswith(top_paths):
            continue  # an item outside the library (none today)
        total += n
        per_section[row["section_path"]] = per_section.get(row["section_path"], 0) + n
        if row["product_id"] is not None:
            per_product[row["product_id"]] = per_product.get(row["product_id"], 0) + n
        per_type[row["content_type_id"]] = per_type.get(row["content_type_id"], 0) + n

    groups: dict[Any, list[LibraryIndexPage]] = {}
    for section in children:
        groups.setdefault(section.translation_key, []).append(section)
    top_groups: dict[Any, list[LibraryIndexPage]] = {}
    for top in tops:
        top_groups.setdefault(top.translation_key, []).append(top)
    library = _pick(next(iter(top_groups.values())), pref, source)
    nav = PortalNav(
        library=NavLink(
            key="library",
            title=library.title,
            url=library.get_url() or "",
            count=total,
            language=library.locale.language_code,
        )
    )
    for pages in groups.values():
        shown = _pick(pages, pref, source)
        nav.sections.append(
            NavLink(
                key=str(shown.translation_key),
                title=shown.title,
                url=shown.get_url() or "",
                count=sum(per_section.get(page.path, 0) for page in pages),
                language=shown.locale.language_code,
            )
        )
    # Sections in the order of the source tree (editors order them there).
    order: dict[Any, int] = {}
    for n, section in enumerate(sorted(children, key=lambda s: (s.locale_id != source, s.path))):
        order.setdefault(section.translation_key, n)
    nav.sections.sort(key=lambda link: order.get(_uuid(link.key), 0))

    products, by_id = products_for_language(locales[pref].language_code, per_product)
    counts: dict[str, int] = {}
    for product_id, n in per_product.items():
        if product_id in by_id:
            product_key = by_id[product_id].key
            counts[product_key] = counts.get(product_key, 0) + n
    nav.products = [
        NavLink(
            key=p.key,
            title=p.display_name,
            url=reverse("kb:product", args=[p.key]),
            count=counts[p.key],
        )
        for p in products
        if counts.get(p.key)
    ]
    library_url = nav.library.url if nav.library else ""
    for kind, model in MODEL_BY_CONTENT_KIND.items():
        n = per_type.get(ContentType.objects.get_for_model(model).pk, 0)
        if n:
            nav.kinds.append(
                NavLink(key=kind, title=kind, url=f"{library_url}?type={kind}", count=n)
            )
    return nav


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def library_tags(*, user) -> list[tuple[str, str]]:
    """(slug, name) of the tags most used on the items ``user`` may see (at most
    ``TAG_CHOICES``, by name): the library's tag filter. One query on a cache miss."""
    if principal_for(user).kind == "suspended":
        return []
    key = _cache_key("tags", user, 0)
    tags = cache.get(key)
    if tags is None:
        from taggit.models import Tag

        visible = PortalItemPage.objects.live().visible_to(user).values("pk")
        rows = (
            Tag.objects.filter(kb_portalitemtag_items__content_object__in=visible)
            .annotate(n=Count("kb_portalitemtag_items"))
            .order_by("-n", "name")
            .values_list("slug", "name")[:TAG_CHOICES]
        )
        tags = sorted(rows, key=lambda row: row[1].casefold())
        cache.set(key, tags, NAV_TTL)
    return tags


# --- product pages -----------------------------------------------------------------------------


@dataclass
class ProductGroup:
    kind: str
    label: Any
    items: list[PortalItemPage]
    more: bool  # more than PRODUCT_PAGE_ITEMS: the library lists the rest


@dataclass
class ProductPage:
    key: str
    name: str
    language: str
    groups: list[ProductGroup]
    library_url: str


def product_page(*, user, key: str) -> ProductPage | None:
    """Everything ``user`` may see about product ``key``, by kind (one entry per translation
    group, the reader's language first, newest first), or None when there is nothing (a product
    with nothing visible does not exist for the user). The product named in the reader's
    language."""
    nav = portal_nav(user=user)
    if not any(link.key == key for link in nav.products):
        return None
    pref = reader_locale_id()
    locales = _locales(pref)
    products, _by_id = products_for_language(locales[pref].language_code)
    product = next((p for p in products if p.key == key), None)
    if product is None:
        return None
    source = _source_locale_id()
    items_qs = one_per_group(
        PortalItemPage.objects.live().visible_to(user).filter(product__key=key),
        user=user,
        pref=pref,
        source=source,
    )
    groups = []
    for kind, model in MODEL_BY_CONTENT_KIND.items():
        found = list(
            model.objects.filter(
                pk__in=items_qs.filter(content_type__model=model._meta.model_name)
            ).order_by("-last_published_at", "-pk")[: PRODUCT_PAGE_ITEMS + 1]
        )
        if not found:
            continue
        found.sort(key=lambda item: item.locale_id != pref)  # stable: reader's language first
        for item in found:
            item.product = product
        _set_locales(found, locales)
        groups.append(
            ProductGroup(
                kind=kind,
                label=model._meta.verbose_name_plural,
                items=found[:PRODUCT_PAGE_ITEMS],
                more=len(found) > PRODUCT_PAGE_ITEMS,
            )
        )
    if not groups:
        return None
    library_url = nav.library.url if nav.library else ""
    return ProductPage(
        key=key,
        name=product.display_name,
        language=locales[pref].language_code,
        groups=groups,
        library_url=f"{library_url}?product={key}",
    )


# --- breadcrumbs -------------------------------------------------------------------------------


@dataclass
class Crumb:
    title: Any
    url: str = ""
    language: str = ""


def page_breadcrumbs(*, user, page: Page) -> list[Crumb]:
    """Home › section › sub-section › page for a library section or item: the page's ancestors
    below the tree root (its locale's portal home, called "Home"), each linked, the page last
    (unlinked: the current page). An ancestor ``user`` may not see is left out (never named).
    Two queries: the ancestors, and which of them are visible."""
    ancestors = list(Page.objects.ancestor_of(page).filter(depth__gt=1).order_by("depth"))
    visible = page_policy.visible_ids(user, [a.pk for a in ancestors if a.depth > 2])
    locale = locale_cached(page.locale_id)
    crumbs: list[Crumb] = []
    for ancestor in ancestors:
        ancestor.locale = locale
        if ancestor.depth == 2:  # the locale's portal home
            crumbs.append(Crumb(_("Home"), ancestor.get_url() or "/"))
        elif ancestor.pk in visible:
            crumbs.append(Crumb(ancestor.title, ancestor.get_url() or "", locale.language_code))
    crumbs.append(Crumb(page.title, "", locale.language_code))
    return crumbs
