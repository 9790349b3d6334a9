"""Permission-checked exits for item files, item images and staff media. Every view asks
permissions.policies first and answers 404 for anything the user may not see, so existence does
not leak. Only then is the file served by ``files.serving`` (streamed, or a presigned redirect)."""

from __future__ import annotations

import posixpath

from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from wagtail.models import Page

from files.serving import serve_stored_file
from permissions.policies.files import document_policy, media_policy
from permissions.policies.pages import page_policy

from .selectors import item_file_current, localized_asset
from .services import download_record

IMAGE_SPECS = {"thumb": "fill-480x300", "large": "max-1600x1200"}
# A day: a reader who loses access keeps at most what their own browser already showed them.
IMAGE_BROWSER_CACHE_SECONDS = 86400


@require_safe
def download(request, page_id: int, document_id: int, filename: str):
    """Serve the current version of one file of one item, after the policy says the user may
    have it.

    ``document_id`` is the file's stable key (the lineage: its first version's id), so the URL
    never changes when a new version goes live; any ``filename`` is accepted for it and the
    response names the file being served (CLARIFICATIONS 5).
    """
    page = get_object_or_404(Page, pk=page_id)
    document = item_file_current(page, lineage=document_id)
    if document is None or not document_policy.can_download(request.user, page, document):
        raise Http404
    # Served (or redirected) first: a store failure must not record a download that never was.
    response = serve_stored_file(
        document.file.name, document.file.storage, filename=document.filename, as_attachment=True
    )
    download_record(user=request.user, item=page, document=document, served_current=True)
    return response


@require_safe
def item_image(request, page_id: int, which: str, size: str):
    """An item's cover or master image as a rendition, only for users who may see the item.

    On a translation: its localized image when there is one, else the source's
    (``kb.selectors.localized_asset``)."""
    if which not in ("cover", "master") or size not in IMAGE_SPECS:
        raise Http404
    page = get_object_or_404(Page, pk=page_id)
    if not page_policy.can_view(request.user, page):
        raise Http404
    # A translation's own localized image, else its source's (visible(translation) is within
    # visible(source), so whoever may see the translation may see the source's image).
    image = localized_asset(page.specific, f"{which}_image").file
    if image is None:
        raise Http404
    rendition = image.get_rendition(IMAGE_SPECS[size])
    response = serve_stored_file(
        rendition.file.name,
        rendition.file.storage,
        filename=posixpath.basename(rendition.file.name),
        as_attachment=False,
    )
    if response.status_code == 200 and request.GET.get("v") == str(image.pk):
        # The page named this exact image (``?v=<image id>``): the same URL never serves other
        # bytes, so this reader's browser may keep it (private: never a shared cache) instead of
        # fetching a 1600 px cover on every visit. Without ``v`` the old no-store stands.
        response["Cache-Control"] = f"private, max-age={IMAGE_BROWSER_CACHE_SECONDS}"
    return response


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
def product(request, key: str):
    """A product's page: everything the user may see about it, by kind. 404 when there is
    nothing (a product with nothing visible does not exist for the user), and for anyone
    anonymous or suspended."""
    from django.template.response import TemplateResponse

    from .navigation import Crumb, product_page

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = product_page(user=request.user, key=key)
    if found is None:
        raise Http404
    crumbs = [
        Crumb(_("Home"), "/"),
        Crumb(_("Products"), ""),
        Crumb(found.name, "", found.language),
    ]
    return TemplateResponse(
        request, "kb/product_page.html", {"product": found, "breadcrumbs": crumbs}
    )
