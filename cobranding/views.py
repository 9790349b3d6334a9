"""Co-brand an asset (POST) and download the render (GET), both behind ``cobrand_policy``; an
organisation's brand-kit logo behind ``brandkit_policy``.

Anything the user may not have answers 404, so existence does not leak. The download goes
through the same exit as item files (``files.serving.serve_stored_file``): streamed from local
storage, or a redirect to a presigned URL on S3.
"""

from __future__ import annotations

import posixpath

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from files.serving import serve_stored_file
from kb.models import PortalItemPage
from kb.services import download_record
from permissions.models import PartnerOrganization
from permissions.policies.cobranding import brandkit_policy, cobrand_policy
from permissions.policies.principal import principal_for

from .models import CobrandRender
from .services import NotCobrandable, cobrand_render_ensure


@require_POST
def cobrand(request, page_id: int):
    """Co-brand an item for the asking partner's own organisation (never one named in the
    request), then send them to the render's download URL (303, so a reload does not post
    again)."""
    item = get_object_or_404(PortalItemPage, pk=page_id)
    organization = principal_for(request.user).organization
    if organization is None or not cobrand_policy.can_cobrand(request.user, item, organization):
        raise Http404
    try:
        render = cobrand_render_ensure(item=item, organization=organization)
    except (NotCobrandable, FileNotFoundError) as exc:
        raise Http404 from exc
    url = reverse("cobranding:cobrand_download", args=[item.pk, render.pk, render.filename])
    return HttpResponseRedirect(url, status=303)


@require_safe
def cobrand_download(request, page_id: int, render_id: int, filename: str):
    render = get_object_or_404(
        CobrandRender.objects.select_related("organization", "item"), pk=render_id, item_id=page_id
    )
    if filename != render.filename or not cobrand_policy.can_download(request.user, render):
        raise Http404
    response = serve_stored_file(
        render.file.name, render.file.storage, filename=render.filename, as_attachment=True
    )
    # Recorded like an item file's download (after serving), so the partner's "Withdrawn" list
    # names the asset if it goes. The render is made from the master IMAGE, which has no
    # versions (file versions are documents): the event names the item, no file version.
    download_record(user=request.user, item=render.item, document=None)
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
