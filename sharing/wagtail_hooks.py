"""sharing's contributions to other apps' pages, through Wagtail hooks (no upward imports)."""

from __future__ import annotations

from django.template.loader import render_to_string
from wagtail import hooks

from .forms import ShareLinkForm
from .selectors import share_available


# After co-branding's "Co-brand" button (order 0): download for yourself first, then share.
@hooks.register("portal_item_actions", order=10)
def share_action(request, item) -> str | None:
    """The "Share with a customer" form on an item the user may share (share_link_policy)."""
    if not share_available(user=request.user, item=item):
        return None
    form = ShareLinkForm(auto_id="id_share_%s")
    return render_to_string(
        "sharing/share_action.html", {"page": item, "form": form}, request=request
    )
