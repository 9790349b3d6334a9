"""cobranding's contributions to other apps' pages, through Wagtail hooks (no upward imports)."""

from __future__ import annotations

from django.template.loader import render_to_string
from wagtail import hooks

from .selectors import cobrand_available


@hooks.register("portal_item_actions")
def cobrand_action(request, item) -> str | None:
    """The "Co-brand" button on an item the user may co-brand for their organisation."""
    if not cobrand_available(user=request.user, item=item):
        return None
    return render_to_string("cobranding/cobrand_action.html", {"page": item}, request=request)


@hooks.register("portal_file_placements", order=30)
def render_placements():
    """Renders live in their organisation's region's bucket, like its brand kit."""
    from files.residency import Placement
    from files.storage import organization_region_key

    from .models import CobrandRender

    renders = CobrandRender.objects.select_related("organization__region__parent").order_by("pk")
    for render in renders:
        yield Placement(
            f"co-brand render {render.pk} of {render.organization.key}",
            CobrandRender,
            render.pk,
            "file",
            render.file.name,
            organization_region_key(render.organization),
        )
