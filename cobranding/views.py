"""Co-brand an asset (POST), watch the render being made (status page), download a stamped copy
(GET), all behind ``cobrand_policy``; an organisation's brand-kit logo behind
``brandkit_policy``.

Anything the user may not have answers 404, so existence does not leak. A download is never a
redirect to the stored object: each one carries its own identifier, stamped into the bytes here
(``services.cobranded_file``), so it is streamed through Django.
"""

from __future__ import annotations

import posixpath

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST, require_safe

from files.serving import serve_stored_file
from kb.models import PortalItemPage
from kb.services import download_record
from permissions.models import PartnerOrganization
from permissions.policies.cobranding import brandkit_policy, cobrand_policy
from permissions.policies.principal import principal_for

from .models import CobrandRender
from .services import NotCobrandable, cobrand_master, cobrand_request, cobranded_file

#: The status page reloads itself this often while the render is being made (no JavaScript).
REFRESH_SECONDS = 2


def _status_url(render: CobrandRender) -> str:
    return reverse("cobranding:cobrand_status", args=[render.item_id, render.pk])


@require_POST
def cobrand(request, page_id: int):
    """Co-brand an item for the asking partner's own organisation (never one named in the
    request), then send them to the render's status page (303, so a reload does not post
    again)."""
    item = get_object_or_404(PortalItemPage, pk=page_id)
    organization = principal_for(request.user).organization
    if organization is None or not cobrand_policy.can_cobrand(request.user, item, organization):
        raise Http404
    try:
        master = cobrand_master(item)
    except NotCobrandable as exc:
        raise Http404 from exc  # no button was offered: nothing to say to a probe
    document = master.file if master.kind == "document" else None
    if not cobrand_policy.can_use_master(request.user, document):
        raise Http404
    render_ = cobrand_request(item, organization, request.user)
    return HttpResponseRedirect(_status_url(render_), status=303)


def _visible_render(request, page_id: int, render_id: int) -> CobrandRender:
    render_ = get_object_or_404(
        CobrandRender.objects.select_related("organization", "item"), pk=render_id, item_id=page_id
    )
    if not cobrand_policy.can_download(request.user, render_):
        raise Http404
    return render_


def _organization_url() -> str | None:
    try:
        return reverse("accounts:organization")
    except NoReverseMatch:
        return None


@require_safe
def cobrand_status(request, page_id: int, render_id: int):
    """ "Preparing your co-branded copy…" (reloading itself every 2 s), then the download; or
    the render's error in words, with the way to fix it (the organisation page)."""
    render_ = _visible_render(request, page_id, render_id)
    context = {
        "render": render_,
        "item": render_.item,
        "refresh": REFRESH_SECONDS,
        "organization_url": _organization_url(),
        "download_url": (
            reverse(
                "cobranding:cobrand_download",
                args=[render_.item_id, render_.pk, render_.filename],
            )
            if render_.is_ready
            else None
        ),
    }
    response = render(request, "cobranding/cobrand_status.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def cobrand_download(request, page_id: int, render_id: int, filename: str):
    """A ready render with this download's identifier stamped in (a ``CobrandIssue``)."""
    render_ = _visible_render(request, page_id, render_id)
    if not render_.is_ready or filename != render_.filename:
        raise Http404
    try:
        stamped = cobranded_file(render_, user=request.user)
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = HttpResponse(stamped.content, content_type=stamped.media_type)
    response["Content-Disposition"] = f'attachment; filename="{stamped.filename}"'
    response["Content-Length"] = str(len(stamped.content))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Recorded like an item file's download, so the partner's "Withdrawn" list and "updated
    # since you downloaded" name the asset: with the document version for a PDF master (the
    # master image has no versions).
    download_record(user=request.user, item=render_.item, document=render_.master_document)
    return response


@require_safe
def brandkit_logo(request, organization_id: int):
    """An organisation's logo, for whom the brand-kit policy allows (never through /media/)."""
    organization = get_object_or_404(PartnerOrganization, pk=organization_id)
    if not organization.logo or not brandkit_policy.can_view_logo(request.user, organization):
        raise Http404
    return serve_stored_file(
        organization.logo.name,
        organization.logo.storage,
        filename=posixpath.basename(organization.logo.name),
        as_attachment=False,
    )
