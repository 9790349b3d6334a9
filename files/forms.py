"""Admin upload forms (WAGTAILDOCS_DOCUMENT_FORM_BASE / WAGTAILIMAGES_IMAGE_FORM_BASE): the file
is checked by content (files.validation) before Wagtail stores anything, and renamed to its
sanitised name. Wagtail's single and multiple upload views and the choosers all build their forms
on these bases, so a refused file never becomes an object or a row."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from wagtail.documents.forms import BaseDocumentForm
from wagtail.images.forms import BaseImageForm

from .validation import validate_upload


def _clean_upload(form: BaseDocumentForm | BaseImageForm, kind: str) -> UploadedFile | None:
    upload: UploadedFile | None = form.cleaned_data.get("file")
    if upload is None or "file" not in form.changed_data:
        return upload
    # An upload always has a name (none would be refused as unusable).
    upload.name = validate_upload(name=upload.name or "", content=upload, kind=kind)
    return upload


class PortalDocumentForm(BaseDocumentForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # An existing document is one version of a file (docs/file-versions.md): replacing
            # its bytes here deleted the old file and broke the history and every link to it.
            # Its file changes only by "Upload new version" (a new version, reviewed with the
            # items using it); this form keeps the title, collection and tags.
            self.fields.pop("file", None)

    def clean_file(self) -> UploadedFile | None:
        return _clean_upload(self, "document")


class PortalImageForm(BaseImageForm):
    def clean_file(self) -> UploadedFile | None:
        return _clean_upload(self, "image")
