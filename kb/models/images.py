"""The portal's image model (WAGTAILIMAGES_IMAGE_MODEL), served only through checked views."""

from django.db import models
from wagtail.images.models import AbstractImage, AbstractRendition, Image


class PortalImage(AbstractImage):
    admin_form_fields = Image.admin_form_fields


class PortalRendition(AbstractRendition):
    image = models.ForeignKey(PortalImage, on_delete=models.CASCADE, related_name="renditions")

    def get_upload_to(self, filename):
        # A rendition lives in the same bucket as its image (data residency, kb/storage.py).
        from kb.storage import join_name, split_name

        return join_name(split_name(self.image.file.name)[0], super().get_upload_to(filename))

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
