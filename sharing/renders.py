"""The one seam between share links and co-branding's renders (so a change of co-branding's API
is one edit here).

Written to the co-branding contract (issue #13): ``cobrand_request`` (a ready render, or a
pending one with its background task enqueued) and ``cobranded_file`` (the render's bytes
stamped with a per-download token, recorded with the share link's id). While the contract is
not there (a branch without it), it falls back to main's synchronous ``cobrand_render_ensure``
and serves the render's bytes unstamped.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cobranding import services as cobrand_services

if TYPE_CHECKING:
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization

NotCobrandable = cobrand_services.NotCobrandable

# True once co-branding offers the contract's background renders and per-download stamps.
HAS_CONTRACT = hasattr(cobrand_services, "cobrand_request") and hasattr(
    cobrand_services, "cobranded_file"
)


@dataclass(frozen=True)
class ShareFile:
    """One download for a customer: the bytes and how to name them."""

    content: bytes
    filename: str
    media_type: str
    token: str | None  # the stamped per-download identifier (None: not stamped)


def render_for_share(item: PortalItemPage, organization: PartnerOrganization, user: Any) -> Any:
    """The co-brand render of ``item`` for ``organization``, asked for on behalf of ``user``
    (the link's creator): ready, or pending with its render under way.

    Raises:
        NotCobrandable: the item has nothing to co-brand.
        FileNotFoundError: (main's synchronous render) the master's file is missing.
    """
    if HAS_CONTRACT:
        return cobrand_services.cobrand_request(item, organization, user)
    return cobrand_services.cobrand_render_ensure(item=item, organization=organization)


def render_is_ready(render: Any) -> bool:
    """Can ``render`` be downloaded now?"""
    if hasattr(render, "is_ready"):
        return bool(render.is_ready)
    return bool(render.file)


def render_has_failed(render: Any) -> bool:
    """Did making ``render`` fail (it will not become ready by waiting)?"""
    return getattr(render, "status", "") == "failed"


def file_for_share(render: Any, *, user: Any, share_link_id: int) -> ShareFile:
    """The bytes of one download of ``render`` through share link ``share_link_id``: stamped
    with a fresh token recorded with the link's id and ``user`` (the link's creator), so
    ``identify_file`` names the creator's organisation, the creator and the link."""
    if HAS_CONTRACT:
        stamped = cobrand_services.cobranded_file(render, user=user, share_link_id=share_link_id)
        return ShareFile(stamped.content, stamped.filename, stamped.media_type, stamped.token)
    with render.file.open("rb") as handle:
        content = handle.read()
    media_type = mimetypes.guess_type(render.file.name)[0] or "application/octet-stream"
    return ShareFile(content, render.filename, media_type, None)
