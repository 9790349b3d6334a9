"""Serving stored bytes: a presigned redirect when the file is on S3, else a stream through the
view. Nothing here decides who may have a file: every caller has asked permissions/ first (item
files and images in kb.views, renders and logos in cobranding.views)."""

from __future__ import annotations

import mimetypes
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpResponseRedirect

from .storage import presigned_url


def serve_stored_file(
    name: str, storage: Storage, *, filename: str, as_attachment: bool
) -> HttpResponseRedirect | FileResponse:
    """Redirect to a presigned URL when the file is on S3, else stream it through this view.
    Callers have already asked the policy. Every file exit uses this (item files, images, staff
    media, co-brand renders in cobranding.views)."""
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


def _stream(fileobj: IO[Any], *, filename: str, as_attachment: bool) -> FileResponse:
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
