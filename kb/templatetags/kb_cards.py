"""``{% item_card item %}``: an item's card in listings (the library, the home page's feeds).

Written in Python (each value escaped as the template engine escapes it) rather than as an
included template: a page lists 20 cards, and the template engine's per-node work was most of the
page's rendering time (bench/listing.py). The HTML is exactly what the template
``kb/includes/item_card.html`` rendered (kb/tests/test_kb_cards.py compares the two). It runs
inside the template, so the active language (the partner's UI language: kind label, date format)
and time zone are the template's.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.timezone import (  # type: ignore[attr-defined]  # public, not in the stubs
    template_localtime,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def item_card(context, item) -> SafeString:
    """The card of ``item`` (a PortalItemPage, its product and locale loaded)."""
    e = conditional_escape
    image = ""
    if item.cover_image_id:
        src = reverse("kb:item_image", args=[item.pk, "cover", "thumb"])
        src = f"{src}?v={item.cover_image_id}"
        image = f'<img src="{e(src)}" alt="" width="480" height="300" loading="lazy">'
    # <bdi>: a product name keeps its own direction inside a right-to-left (Arabic) line.
    product = f" · <bdi>{e(item.product.display_name)}</bdi>" if item.product else ""
    summary = ""
    if item.summary:
        summary = f"<p>{e(Truncator(item.summary).words(30, truncate=' …'))}</p>"
    published = ""
    if item.last_published_at:
        local = template_localtime(item.last_published_at, use_tz=context.use_tz)
        # The date filter's "c" is isoformat().
        shown = formats.date_format(local, "DATE_FORMAT")
        published = f'<time datetime="{e(local.isoformat())}">{e(shown)}</time>'
    url = item.get_url(request=context.get("request"))
    # Every value is escaped above (conditional_escape), as the template engine escapes them.
    return mark_safe(  # noqa: S308
        "\n"
        '<article class="card item-card">\n'
        f"  {image}\n"
        '  <div class="card-body">\n'
        f'    <p class="meta"><span class="badge">{e(capfirst(item.kind_label))}</span>'
        f"{product} · {e(item.locale.language_code.upper())}</p>\n"
        f'    <h3><a href="{e(url)}">{e(item.title)}</a></h3>\n'
        f"    {summary}\n"
        f'    <p class="meta">{published}</p>\n'
        "  </div>\n"
        "</article>\n"
    )
