"""What gets indexed for a portal item, built once and handed to every backend.

``SearchDocument`` is backend-neutral: the database backend stores it in its tables, the
Elasticsearch backend turns it into an ``elasticsearch.dsl`` Document (see
``search/backends/elasticsearch.py``); which of its attributes are text, filters and facets, and
their weights, is declared once in ``search/fields.py``.

Tags: ``tags`` holds the live item's tag slugs (the facet and the ``?tag=`` filter, a keyword
field / "|tag|" tokens); ``tag_text`` holds their names, which both backends index as text
together with the product name (the "product" text field), so a query for a tag word finds it.
"""

from __future__ import annotations

import html
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.html import strip_tags

from permissions.policies.search import SearchAudience, search_audiences

logger = logging.getLogger("portal.search")

MAX_ATTACHMENT_CHARS = 200_000


@dataclass
class SearchDocument:
    id: int
    locale: str
    kind: str
    title: str
    summary: str
    body: str
    attachments: str
    product_key: str | None
    product_name: str
    tags: list[str]
    first_published_at: datetime | None
    last_published_at: datetime | None
    expire_at: datetime | None
    live: bool
    audience: SearchAudience
    extra: dict = field(default_factory=dict)
    tag_text: str = ""  # tag names, searched with the product name's weight

    @property
    def product(self) -> str:
        """The "product" text field (search/fields.py): product name and tag names."""
        return " ".join(p for p in (self.product_name, self.tag_text) if p)


_SPACE = re.compile(r"\s+")


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment (rich text): tags dropped and character references
    decoded, so the index holds text ("Altivo's", not "Altivo&#x27;s"); the search page escapes
    it exactly once when it shows it (``search.highlight.marks_to_html``)."""
    # strip_tags leaves references (&#x27;, &amp;, &nbsp;) as they are; unescape after it, so
    # that a decoded "&lt;b&gt;" stays text instead of being taken for a tag.
    return _SPACE.sub(" ", html.unescape(strip_tags(value or ""))).strip()


def pdf_text(document) -> str:
    """Text of a PDF document (empty for other files or unreadable PDFs; never raises)."""
    if not (document.filename or "").lower().endswith(".pdf"):
        return ""
    try:
        from pypdf import PdfReader

        with document.file.open("rb") as handle:
            reader = PdfReader(io.BytesIO(handle.read()))
            parts: list[str] = []
            size = 0
            for page in reader.pages:
                text = page.extract_text() or ""
                parts.append(text)
                size += len(text)
                if size > MAX_ATTACHMENT_CHARS:
                    break
        return _SPACE.sub(" ", " ".join(parts))[:MAX_ATTACHMENT_CHARS].strip()
    except Exception:  # noqa: BLE001 - a broken file must not stop indexing of the item
        logger.warning("could not extract text from document %s", document.pk, exc_info=True)
        return ""


def _stream_text(value) -> str:
    """Text of a StreamField value (structured specs, guide modules)."""
    parts: list[str] = []

    def walk(node):
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v)

    try:
        walk(value.get_prep_value() if hasattr(value, "get_prep_value") else value)
    except Exception:  # noqa: BLE001
        return ""
    # raw data holds block types/ids as well; keep only the values' words
    return " ".join(p for p in parts if " " in p or len(p) < 40)


def _body_of(page) -> str:
    parts = [html_to_text(page.body)]
    specific = page.specific
    for name in ("changelog",):
        if getattr(specific, name, None):
            parts.append(html_to_text(getattr(specific, name)))
    for name in ("specifications", "modules"):
        value = getattr(specific, name, None)
        if value:
            parts.append(_stream_text(value.raw_data if hasattr(value, "raw_data") else value))
    return " ".join(p for p in parts if p)


def _attachments_of(page, with_files: bool) -> str:
    if not with_files:
        return ""
    specific = page.specific
    documents = [a.document for a in page.attachments.select_related("document")]
    master = getattr(specific, "master_document", None)
    if master is not None:
        documents.append(master)
    return " ".join(t for t in (pdf_text(d) for d in documents) if t)[:MAX_ATTACHMENT_CHARS]


def tags_of(page_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(slug, name) of each item's tags, sorted by slug, in one query for all ``page_ids``.

    Read from the database rows, i.e. the live page's tags: a draft's tags live only in its
    revision until it is published, so they never reach the index.
    """
    from kb.models import PortalItemTag

    tags: dict[int, list[tuple[str, str]]] = {}
    rows = (
        PortalItemTag.objects.filter(content_object_id__in=page_ids)
        .order_by("tag__slug")
        .values_list("content_object_id", "tag__slug", "tag__name")
    )
    for page_id, slug, name in rows:
        if slug:  # taggit leaves the slug empty for a name without letters or digits
            tags.setdefault(page_id, []).append((slug, name))
    return tags


def build_documents(pages: Iterable, *, with_files: bool = True) -> list[SearchDocument]:
    """Documents for live items among ``pages`` (PortalItemPage instances).

    Items that are not live, or have no compiled audience, get no document (fail closed).
    Tags are read in one query for all ``pages`` (no query per item).
    """
    from wagtail.models import Locale

    from kb.models import Product
    from kb.models.pages import CONTENT_KIND_BY_MODEL

    pages = [p for p in pages if p.live]
    audiences = search_audiences(pages)
    tags = tags_of([p.pk for p in pages]) if pages else {}
    # Read here, not through page.locale / page.product: callers pass ``.specific()`` pages,
    # which lose select_related, and one query each keeps a batch's query count constant.
    locales = dict(Locale.objects.values_list("pk", "language_code")) if pages else {}
    product_ids = {p.product_id for p in pages if p.product_id}
    # The items' products and their translations, in one query: an item's "product" text holds
    # the product's name in the item's language and its source name (partners search either).
    product_rows = (
        list(
            Product.objects.filter(
                key__in=Product.objects.filter(pk__in=product_ids).values("key")
            ).values_list("pk", "key", "locale_id", "name")
        )
        if product_ids
        else []
    )
    products = {pk: (key, name) for pk, key, _locale, name in product_rows}
    local_names = {(key, locale_id): name for _pk, key, locale_id, name in product_rows}
    docs: list[SearchDocument] = []
    for page in pages:
        audience = audiences.get(page.pk)
        if audience is None:
            continue
        product = products.get(page.product_id)
        product_key, product_name = product if product else (None, "")
        local_name = local_names.get((product[0], page.locale_id), "") if product else ""
        if local_name and local_name != product_name:
            both = f"{local_name} {product_name}"
            # Within a product name's length (120): the text column is bounded (search.models).
            product_name = both if len(both) <= 120 else local_name
        item_tags = tags.get(page.pk, [])
        docs.append(
            SearchDocument(
                id=page.pk,
                locale=locales[page.locale_id],
                kind=CONTENT_KIND_BY_MODEL.get(page.specific_class.__name__, "item"),
                title=page.title,
                summary=page.summary or "",
                body=_body_of(page),
                attachments=_attachments_of(page, with_files),
                product_key=product_key,
                product_name=product_name,
                tags=[slug for slug, _name in item_tags],
                # Hyphens as spaces: PostgreSQL's parser reads "q4-2026" as "q4" and the number
                # "-2026", so a search for "q4-2026" (the words q4 and 2026) would miss it.
                tag_text=" ".join(name.replace("-", " ") for _slug, name in item_tags),
                first_published_at=page.first_published_at,
                last_published_at=page.last_published_at,
                # The effective expiry (the page's, its sections', its source's): search
                # compares it with the query's time (permissions.policies.search).
                expire_at=audience.expire_at,
                live=page.live,
                audience=audience,
            )
        )
    return docs


def item_queryset():
    from kb.models import PortalItemPage

    return (
        PortalItemPage.objects.live()
        .select_related("product", "locale")
        .defer_streamfields()
        .order_by("pk")
    )


def iter_documents(*, batch_size: int = 200, with_files: bool = True) -> Iterator[SearchDocument]:
    """All indexable documents, in batches (a constant number of queries per batch)."""
    from kb.models import PortalItemPage

    ids = list(item_queryset().values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        pages = list(
            PortalItemPage.objects.filter(pk__in=ids[start : start + batch_size])
            .order_by("pk")
            .specific()  # one query per kind, not page.specific per item in _body_of
        )
        yield from build_documents(pages, with_files=with_files)


def count_documents() -> int:
    return item_queryset().count()
