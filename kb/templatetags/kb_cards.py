"""``{% item_card item %}``: an item's card in listings (the library, the home page's feeds).

Written with ``format_html`` rather than as an included template: a page lists 20 cards, and the
template engine's per-node work was most of the page's rendering time (bench/listing.py). The
HTML is exactly what ``kb/includes/item_card.html`` rendered (kb/tests/test_kb_cards.py compares
the two). It runs inside the template, so the active language (the partner's UI language: kind
label, date format) and time zone are the template's.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.timezone import template_localtime

register = template.Library()


@register.simple_tag(takes_context=True)
def item_card(context, item) -> SafeString:
    """The card of ``item`` (a PortalItemPage, its product and locale loaded)."""
    image = ""
    if item.cover_image_id:
        image = format_html(
            '<img src="{}" alt="" width="480" height="300" loading="lazy">',
            reverse("kb:item_image", args=[item.pk, "cover", "thumb"]),
        )
    product = format_html(" · {}", item.product.name) if item.product else ""
    summary = ""
    if item.summary:
        summary = format_html("<p>{}</p>", Truncator(item.summary).words(30, truncate=" …"))
    published = ""
    if item.last_published_at:
        local = template_localtime(item.last_published_at, use_tz=context.use_tz)
        published = format_html(
            '<time datetime="{}">{}</time>',
            local.isoformat(),  # the date filter's "c"
            formats.date_format(local, "DATE_FORMAT"),
        )
    return format_html(
        "\n"
        '<article class="card item-card">\n'
        "  {image}\n"
        '  <div class="card-body">\n'
        '    <p class="meta"><span class="badge">{kind}</span>{product} · {language}</p>\n'
        '    <h3><a href="{url}">{title}</a></h3>\n'
        "    {summary}\n"
        '    <p class="meta">{published}</p>\n'
        "  </div>\n"
        "</article>\n",
        image=image,
        kind=capfirst(item.kind_label),
        product=product,
        language=item.locale.language_code.upper(),
        url=item.get_url(request=context.get("request")),
        title=item.title,
        summary=summary,
        published=published,
    )
