"""``{% breadcrumbs page %}``: home › section › sub-section › page (kb.navigation)."""

from __future__ import annotations

from django import template

from ..navigation import page_breadcrumbs

register = template.Library()


@register.inclusion_tag("kb/includes/breadcrumbs.html", takes_context=True)
def breadcrumbs(context, page) -> dict:
    """The breadcrumbs of a library section or item ``page`` for the user of the request."""
    request = context.get("request")
    return {"crumbs": page_breadcrumbs(user=getattr(request, "user", None), page=page)}
