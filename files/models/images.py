"""The portal's image model (WAGTAILIMAGES_IMAGE_MODEL), served only through checked views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from wagtail.images.models import AbstractImage, AbstractRendition, Image

from .documents import FileSha256Mixin

if TYPE_CHECKING:
    from wagtail.images.models import Filter


class PortalImage(FileSha256Mixin, AbstractImage):
    # ``sha256``: a marketing asset's localized master image (or an item's localized cover)
    # records its source image's value, like localized files (docs/localized-files.md).
    admin_form_fields = Image.admin_form_fields

    class Meta(AbstractImage.Meta):
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_portalimage"

    # Wagtail's create_rendition() stores the new file *before* inserting the row and relies on
    # get_or_create(): when two requests render the same thumbnail at once, the loser's INSERT
    # fails on the (image, filter_spec, focal_point_key) constraint and its stored file stays
    # behind, referenced by nothing (create_renditions' bulk_create(ignore_conflicts) leaves
    # files the same way). Here the loser deletes its own file and returns the winner's row.
    def create_rendition(self, filter: Filter) -> PortalRendition:
        """The rendition of ``filter``: the stored one, else a new one; never a stray file."""
        lookup = {"filter_spec": filter.spec, "focal_point_key": filter.get_cache_key(self)}
        existing: PortalRendition | None = self.renditions.filter(**lookup).first()
        if existing is not None:
            return existing
        rendition: PortalRendition = self.get_rendition_model()(
            image=self, file=self.generate_rendition_file(filter), **lookup
        )
        try:
            with transaction.atomic():
                rendition.save()  # stores the file (pre_save), then INSERTs the row
        except IntegrityError:
            winner: PortalRendition = self.renditions.get(**lookup)
            if rendition.file.name and rendition.file.name != winner.file.name:
                rendition.file.storage.delete(rendition.file.name)
            return winner
        return rendition

    def create_renditions(self, *filters: Filter) -> dict[Filter, PortalRendition]:
        """One at a time through ``create_rendition``, so each clash is cleaned up."""
        return {filter: self.create_rendition(filter) for filter in filters}


class PortalRendition(AbstractRendition):
    image: models.ForeignKey[PortalImage, PortalImage] = models.ForeignKey(
        PortalImage, on_delete=models.CASCADE, related_name="renditions"
    )

    def get_upload_to(self, filename: str) -> str:
        # A rendition lives in the same bucket as its image (data residency, files/storage.py).
        from files.storage import join_name, split_name

        upload_to: str = super().get_upload_to(filename)
        return join_name(split_name(self.image.file.name)[0], upload_to)

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
        db_table = "kb_portalrendition"
