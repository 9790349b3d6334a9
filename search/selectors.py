"""The portal's search call (the read side): entitlement → backend query → facets → hydrated,
highlighted page.

Views call only ``portal_search`` / ``portal_suggest``; neither branches on the engine. The
backends answer in the order ``PORTAL_SEARCH_BACKENDS`` chains them: when one fails (an engine
down, or slower than PORTAL_SEARCH_TIMEOUT) the next answers and the result carries a notice
(never a 5xx). Writes to the indexes are ``search.services``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import unescape
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import quote

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Site

from permissions.idquery import rows_for_ids
from permissions.policies.search import search_filter_for

from .backends import search_chain
from .backends.base import SearchBackendError, SearchQuery, SearchResult
from .fields import FACETS
from .highlight import marks_to_html
from .query import WORD, normalise, words

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from wagtail.models.sites import SiteRootPath

logger = logging.getLogger("portal.search")
SORTS = ("relevance", "date")


@dataclass
class ResultItem:
    page: object  # None: result lines are built from columns, not page objects
    url: str
    title_html: SafeString
    snippet_html: SafeString
    kind: str
    language: str
    kind_label: StrOrPromise = ""  # lazy: rendered in the template's (the UI) language
    product: str = ""


@dataclass
class FacetValue:
    value: str
    label: StrOrPromise  # kind and language labels are lazy (the UI language)
    count: int
    selected: bool


@dataclass
class SearchPage:
    q: str
    results: list[ResultItem]
    total: int
    page: int
    num_pages: int
    sort: str
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    selected: dict[str, list[str]] = field(default_factory=dict)
    notice: str = ""
    backend: str = ""
    total_exact: bool = True  # False: ``total`` is a lower bound ("1,000+")
    took_ms: float = 0.0
    # The content languages searched when the user picked none (default_languages), as
    # (code, name in the UI language); empty when the user chose languages or asked for all.
    default_languages: list[tuple[str, StrOrPromise]] = field(default_factory=list)
    # Typo correction: when the results are those of close words instead of what was typed,
    # ``corrected_query`` is the query with those words ("router" for "ruoter") and
    # ``original_query`` what was typed (searched as typed with ``?exact=1``: ``exact``).
    corrected_query: str = ""
    original_query: str = ""
    exact: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages


def _along_chain(call):
    """``call(backend)`` along the backend chain: the first answer that does not fail, and
    whether a fallback gave it."""
    *primaries, last = search_chain()
    for backend in primaries:
        started = time.perf_counter()
        try:
            answer = call(backend)
        except SearchBackendError:
            logger.warning("search backend %s failed; asking the next", backend.name, exc_info=True)
            continue
        if time.perf_counter() - started > settings.PORTAL_SEARCH_TIMEOUT:
            logger.warning("search backend %s slower than the timeout; answered", backend.name)
        return answer, False
    return call(last), bool(primaries)


def _run(query: SearchQuery) -> tuple[SearchResult, str]:
    result, degraded = _along_chain(lambda backend: backend.search(query))
    notice = (
        _("Search is running in reduced mode at the moment; results may be less precise.")
        if degraded
        else ""
    )
    return result, notice


_PRODUCT_NAMES: tuple[float, dict[str, dict[str, str]]] = (0.0, {})


def _product_labels(product_model, keys, language_code: str) -> dict[str, str]:
    """Product names by key for a partner reading ``language_code``: the product's translation
    there when it has one, else its source's (default locale) name. The facet and the result
    lines are keyed by product key, one value per product across locales.

    Every product row is read in one query, again when a key is unknown and at least once a
    minute per process (labels only: a renamed or newly translated product may show its old
    name for up to a minute)."""
    global _PRODUCT_NAMES
    read_at, names = _PRODUCT_NAMES
    if time.monotonic() - read_at > 60 or any(key not in names for key in keys):
        names = {}
        for key, code, name in product_model.objects.values_list(
            "key", "locale__language_code", "name"
        ):
            names.setdefault(key, {})[code] = name
        _PRODUCT_NAMES = (time.monotonic(), names)
    source = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    return {
        key: by_code.get(language_code) or by_code.get(source) or next(iter(by_code.values()))
        for key, by_code in names.items()
    }


def language_label(code: str) -> StrOrPromise:
    """The name of the content language ``code`` in the UI language ("Englisch" for a German
    reader; lazy: rendered in the template's language), for facets and the "searching in" line."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:  # a content language Django does not know: its configured name
        return dict(settings.WAGTAIL_CONTENT_LANGUAGES).get(code, code)


def _labels(
    tag_slugs: list[str], product_keys=(), *, language_code: str
) -> dict[str, Mapping[str, StrOrPromise]]:
    from taggit.models import Tag

    from kb.models import Product
    from kb.models.pages import MODEL_BY_CONTENT_KIND

    tags = (
        dict(Tag.objects.filter(slug__in=tag_slugs).values_list("slug", "name"))
        if tag_slugs
        else {}
    )
    return {
        # Lazy labels: rendered in the language of the template.
        "kind": {
            k: capfirst(cast("StrOrPromise", m._meta.verbose_name))
            for k, m in MODEL_BY_CONTENT_KIND.items()
        },
        "product": _product_labels(Product, product_keys, language_code),
        "locale": {
            code: language_label(code) for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
        },
        "tags": tags,  # the index holds slugs; editors' names ("Q4 Launch") are the labels
    }


ALL_LANGUAGES = "all"


def content_language(user=None) -> str:
    """The content language ``user`` reads (the first of default_languages, without a query):
    the content variant of their preferred UI language, else of the active one, else (a UI
    language without content) the source language. Products are named in it (facet labels,
    result lines)."""
    source = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    wanted = getattr(user, "preferred_language", "") or translation.get_language() or source
    try:
        return get_supported_content_language_variant(wanted)
    except LookupError:
        return source


def default_languages(user=None) -> list[str]:
    """The content languages a search covers unless the user picks: the user's own (the
    content variant of their preferred UI language, else the active one, when content exists
    in it) and the source language, whose items every partner reads as the master copy."""
    from kb.selectors import default_locale

    source = default_locale().language_code
    return list(dict.fromkeys([content_language(user), source]))


def params_to_filters(params) -> dict[str, list[str]]:
    names = {"type": "kind", "product": "product", "language": "locale", "tag": "tags"}
    filters = {}
    for param, name in names.items():
        values = [v for v in params.getlist(param) if v and len(v) <= 100][:10]  # tags: ≤ 100
        if values:
            filters[name] = values
    return filters


def portal_search(*, user, params, page_size: int | None = None, request=None) -> SearchPage:
    """Search for ``user`` with GET ``params`` (q, type, product, language, tag, sort, page).

    ``request`` (optional) lets Wagtail cache the site root paths for the result URLs."""
    page_size = page_size or settings.PORTAL_PAGE_SIZE
    q = (params.get("q") or "").strip()[:200]
    sort: Literal["relevance", "date"] = (
        params.get("sort") if params.get("sort") in SORTS else "relevance"
    )
    try:
        number = max(1, min(int(params.get("page") or 1), 500))
    except ValueError:
        number = 1
    filters = params_to_filters(params)
    exact = params.get("exact") == "1"
    page = SearchPage(q=q, results=[], total=0, page=number, num_pages=0, sort=sort, exact=exact)
    page.selected = dict(filters)
    if ALL_LANGUAGES in filters.get("locale", []):
        filters.pop("locale")  # ?language=all: every language, no default
    elif "locale" not in filters:
        filters["locale"] = default_languages(user)
        page.default_languages = [(code, language_label(code)) for code in filters["locale"]]
    if not q:
        return page
    started = time.perf_counter()
    query = SearchQuery(
        text=q,
        entitlement=search_filter_for(user),
        filters=filters,
        sort=sort,
        offset=(number - 1) * page_size,
        limit=page_size,
        fuzzy=not exact,
    )
    result, page.notice = _run(query)
    page.backend = result.backend
    page.total = result.total
    page.total_exact = result.total_exact
    page.num_pages = max(1, math.ceil(result.total / page_size))
    language_code = content_language(user)
    page.results = hydrate(user, result, request=request, language_code=language_code)
    if result.corrections and page.results:
        corrected = corrected_query(q, result.corrections, page.results)
        if corrected:
            page.corrected_query, page.original_query = corrected, q
    labels = _labels(
        sorted(result.facets.get("tags", {})),
        result.facets.get("product", {}),
        language_code=language_code,
    )
    for name in FACETS:
        counts = result.facets.get(name, {})
        page.facets[name] = [
            FacetValue(value, labels[name].get(value, value), count, value in filters.get(name, []))
            for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
    page.took_ms = (time.perf_counter() - started) * 1000
    return page


def corrected_query(q: str, corrections: Mapping[str, list[str]], results: list[ResultItem]) -> str:
    """``q`` with each mistyped word replaced by the first of its candidates that the shown
    results contain (their titles and snippets, i.e. items the asker may see: a candidate may
    come from an item they may not, and must then never be shown); "" when nothing changed."""
    shown: set[str] = set()
    for item in results:
        shown.update(words(unescape(strip_tags(f"{item.title_html} {item.snippet_html}"))))
    chosen = {
        term: next((c for c in candidates if c in shown), "")
        for term, candidates in corrections.items()
    }
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        better = chosen.get(normalise(match.group(0)))
        if better:
            changed = True
            return better.capitalize() if match.group(0)[:1].isupper() else better
        return match.group(0)

    text = WORD.sub(replace, q)
    return text if changed else ""


def hydrate(
    user, result: SearchResult, *, request=None, language_code: str | None = None
) -> list[ResultItem]:
    """The hits as result lines, in hit order. The policy checks them once more (a stale index
    entry can never show an item the user may not see); only the columns a line shows are read.
    Products are named in ``language_code`` (default: the user's content_language)."""
    from kb.models import PortalItemPage, Product
    from kb.models.pages import CONTENT_KIND_BY_MODEL
    from permissions.policies.pages import page_policy

    if not result.hits:
        return []
    visible = page_policy.visible_ids(user, result.ids)
    rows = {
        row[0]: row
        for row in rows_for_ids(
            "search.hydrate",
            lambda id_list: (
                PortalItemPage.objects.filter(pk__in=id_list, live=True)
                .order_by()
                .values_list(
                    "id",
                    "title",
                    "summary",
                    "url_path",
                    "content_type_id",
                    "locale__language_code",
                    "product__key",
                )
            ),
            visible,
        )
    }
    urls = _page_urls(rows.values(), request)
    product_keys = {row[6] for row in rows.values() if row[6]}
    product_names = (
        _product_labels(Product, product_keys, language_code or content_language(user))
        if product_keys
        else {}
    )
    kinds: dict[int, tuple[str, StrOrPromise]] = {}  # content type -> (kind, label), once per call
    items = []
    for hit in result.hits:
        row = rows.get(hit.id)
        if row is None:
            continue
        _id, title, summary, _path, content_type_id, language, product_key = row
        if content_type_id not in kinds:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            kinds[content_type_id] = (
                (
                    CONTENT_KIND_BY_MODEL.get(model.__name__, "item"),
                    cast("StrOrPromise", model._meta.verbose_name),
                )
                if model
                else ("item", "")
            )
        kind, kind_label = kinds[content_type_id]
        items.append(
            ResultItem(
                page=None,
                url=urls.get(hit.id) or "",
                title_html=marks_to_html(hit.title_highlight or title),
                snippet_html=marks_to_html(hit.snippet or summary),
                kind=kind,
                kind_label=kind_label,
                product=product_names.get(product_key, "") if product_key else "",
                language=language,
            )
        )
    return items


def _page_urls(rows, request) -> dict[int, str]:
    """Page URLs from ``url_path`` the way ``Page.get_url`` builds them (site root path, the
    page's language for i18n patterns), without loading page objects.
    ``search/tests/test_portal.py`` checks them against ``Page.get_url``."""
    holder = request if request is not None else _UrlCache()
    try:
        roots = holder._wagtail_cached_site_root_paths
    except AttributeError:
        roots = holder._wagtail_cached_site_root_paths = Site.get_site_root_paths()
    several_sites = len({root.site_id for root in roots}) > 1
    i18n = getattr(settings, "WAGTAIL_I18N_ENABLED", False)
    active = translation.get_language()
    try:
        active_variant = get_supported_content_language_variant(active) if i18n else None
    except LookupError:
        active_variant = None
    append_slash = getattr(settings, "WAGTAIL_APPEND_SLASH", True)
    urls: dict[int, str] = {}
    prefixes: dict[str, str | None] = {}
    for row in rows:
        page_id, url_path = row[0], row[3]
        root = next((r for r in roots if url_path.startswith(r.root_path)), None)
        if root is None:
            continue
        language = active if active_variant == root.language_code else root.language_code
        rest = url_path[len(root.root_path) :]
        if not _SERVE_PATH[bool(append_slash)].fullmatch(rest):
            continue  # not routable (reverse() would raise NoReverseMatch)
        # reverse() once per language: the rest of the URL is the quoted page path, exactly as
        # reverse() quotes its argument.
        if language not in prefixes:
            try:
                with translation.override(language if i18n else active):
                    prefixes[language] = reverse("wagtail_serve", args=("",))
            except NoReverseMatch:
                prefixes[language] = None
        if prefixes[language] is None:
            continue
        path = cast(str, prefixes[language]) + quote(rest, safe=RFC3986_SUBDELIMS + "/~:@")
        if not append_slash and path != "/":
            path = path.rstrip("/")
        urls[page_id] = root.root_url + path if several_sites else path
    return urls


# wagtail.urls' serve patterns (with and without WAGTAIL_APPEND_SLASH)
_SERVE_PATH = {True: re.compile(r"(?:[\w\-]+/)*"), False: re.compile(r"[\w\-/]*")}


class _UrlCache:
    """Holds Wagtail's site-root-path cache for one call when there is no request (no current
    site: URLs are relative when there is one site, absolute otherwise)."""

    _wagtail_site = None
    _wagtail_cached_site_root_paths: list[SiteRootPath]  # set by _page_urls


def portal_suggest(*, user, prefix: str, limit: int = 8) -> list[dict]:
    """Titles for as-you-type completion (only items ``user`` may see)."""
    prefix = (prefix or "").strip()[:100]
    if len(prefix) < 2:
        return []
    entitlement = search_filter_for(user)
    suggestions, _degraded = _along_chain(
        lambda backend: backend.suggest(prefix, entitlement, limit=limit)
    )
    from kb.models import PortalItemPage

    urls = {
        p.pk: p.get_url()
        for p in PortalItemPage.objects.filter(pk__in=[s.id for s in suggestions])
        .live()
        .visible_to(user)
    }
    return [{"title": s.title, "url": urls[s.id]} for s in suggestions if s.id in urls]
