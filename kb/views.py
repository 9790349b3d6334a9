"""Permission-checked exits for files and images. Every view asks permissions.policies first and
answers 404 for anything the user may not see, so existence does not leak. Only then is the file
served: streamed from local storage, or on S3 a redirect to a presigned URL valid for at most
``PORTAL_S3["presign_seconds"]`` (60 s)."""

from __future__ import annotations

import mimetypes
import posixpath

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from wagtail.documents import get_document_model
from wagtail.models import Page

from permissions.models import PartnerOrganization
from permissions.policies import (
    brandkit_policy,
    document_policy,
    media_policy,
    page_policy,
    principal_for,
)

from .models import DownloadEvent
from .storage import presigned_url

IMAGE_SPECS = {"thumb": "fill-480x300", "large": "max-1600x1200"}


def serve_stored_file(name: str, storage, *, filename: str, as_attachment: bool):
    """Redirect to a presigned URL when the file is on S3, else stream it through this view.
    Callers have already asked the policy. Every file exit uses this (item files, images, staff
    media, co-brand renders in kb.cobranding.views)."""
    content_type, _ = mimetypes.guess_type(filename)
    try:
        url = presigned_url(
            name, filename=filename, as_attachment=as_attachment, content_type=content_type
        )
        if url is not None:
            response = HttpResponseRedirect(url)
            response["Cache-Control"] = "private, no-store"
            response["Referrer-Policy"] = "no-referrer"
            return response
        handle = storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return _stream(handle, filename=filename, as_attachment=as_attachment)


def _stream(fileobj, *, filename: str, as_attachment: bool) -> FileResponse:
    content_type, _ = mimetypes.guess_type(filename)
    response = FileResponse(
        fileobj,
        as_attachment=as_attachment,
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response.block_size = settings.PORTAL_DOWNLOAD_BLOCK_SIZE
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def download(request, page_id: int, document_id: int, filename: str):
    """Stream one file of one item, after the policy says the user may have it."""
    page = get_object_or_404(Page, pk=page_id)
    document = get_object_or_404(get_document_model(), pk=document_id)
    if filename != document.filename or not document_policy.can_download(
        request.user, page, document
    ):
        raise Http404
    # Served (or redirected) first: a store failure must not record a download that never was.
    response = serve_stored_file(
        document.file.name, document.file.storage, filename=document.filename, as_attachment=True
    )
    principal = principal_for(request.user)
    if principal.kind == "partner":
        DownloadEvent.objects.create(
            user=request.user,
            organization=principal.organization,
            item_id=page.pk,
            document=document,
        )
    return response


@require_safe
def item_image(request, page_id: int, which: str, size: str):
    """An item's cover or master image as a rendition, only for users who may see the item."""
    if which not in ("cover", "master") or size not in IMAGE_SPECS:
        raise Http404
    page = get_object_or_404(Page, pk=page_id)
    if not page_policy.can_view(request.user, page):
        raise Http404
    image = getattr(page.specific, f"{which}_image", None)
    if image is None:
        raise Http404
    rendition = image.get_rendition(IMAGE_SPECS[size])
    return serve_stored_file(
        rendition.file.name,
        rendition.file.storage,
        filename=posixpath.basename(rendition.file.name),
        as_attachment=False,
    )


@require_safe
def staff_media(request, path: str):
    """Raw media for staff (admin thumbnails and originals), file by file as the policy says:
    co-brand renders and logos never (their own views), documents as everywhere else."""
    if not media_policy.can_browse(request.user):
        raise Http404
    normalized = posixpath.normpath(path)
    if normalized.startswith(("..", "/")) or not media_policy.can_read(request.user, normalized):
        raise Http404
    return serve_stored_file(
        normalized,
        default_storage,
        filename=posixpath.basename(normalized),
        as_attachment=False,
    )


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
