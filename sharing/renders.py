"""The one seam between share links and co-branding's renders (so a change of co-branding's API
is one edit here).

Built on the co-branding contract (issue #13): ``cobrand_master`` (which file a render starts
from), ``cobrand_render_current`` (the render of the current sources, if any),
``cobrand_request`` (a ready render, or a pending one with its background task enqueued) and
``cobranded_file`` (the render's bytes stamped with a per-download token, recorded with the
share link's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cobranding.models import CobrandRender
from cobranding.selectors import cobrand_render_current
from cobranding.services import NotCobrandable, cobrand_master, cobrand_request, cobranded_file

if TYPE_CHECKING:
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization

__all__ = [
    "NotCobrandable",
    "ShareFile",
    "file_for_share",
    "master_document",
    "render_for_share",
    "render_has_failed",
    "render_is_ready",
]


@dataclass(frozen=True)
class ShareFile:
    """One download for a customer: the bytes and how to name them."""

    content: bytes
    filename: str
    media_type: str
    token: str  # the stamped per-download identifier


def master_document(item: PortalItemPage) -> Any | None:
    """The master DOCUMENT version a render of ``item`` would start from (None: an image master),
    for the policy's version rule.

    Raises:
        NotCobrandable: the item has nothing to co-brand.
    """
    master = cobrand_master(item)
    return master.file if master.kind == "document" else None


def render_for_share(
    item: PortalItemPage, organization: PartnerOrganization, user: Any
) -> CobrandRender:
    """The co-brand render of ``item`` for ``organization``, asked for on behalf of ``user``
    (the link's creator): the current one if there is one, ready, pending or FAILED, else a new
    pending one with its render under way.

    A failed render is not tried again from here: a customer reloading the page would start a
    render each time, and the same sources fail the same way. It is tried again when the
    partner co-brands the item themselves, or afresh when a source changes (a new brand kit
    version makes a new render).

    Raises:
        NotCobrandable: the item has nothing to co-brand.
    """
    current = cobrand_render_current(item, organization)
    if current is not None:
        return current
    return cobrand_request(item, organization, user)


def render_is_ready(render: CobrandRender) -> bool:
    return bool(render.is_ready)


def render_has_failed(render: CobrandRender) -> bool:
    """Did making ``render`` fail (it will not become ready by waiting)?"""
    return render.status == CobrandRender.Status.FAILED


def file_for_share(render: CobrandRender, *, user: Any, share_link_id: int) -> ShareFile:
    """The bytes of one download of ``render`` through share link ``share_link_id``: stamped
    with a fresh token recorded with the link's id and ``user`` (the link's creator), so
    ``identify_file`` names the creator's organisation, the creator and the link."""
    stamped = cobranded_file(render, user=user, share_link_id=share_link_id)
    return ShareFile(stamped.content, stamped.filename, stamped.media_type, stamped.token)
