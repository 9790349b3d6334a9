"""Data residency: which bucket each stored file must be in, and moving it there safely.

Rules (the region of an item comes from permissions.selectors.item_single_region):

- a document or image used by items restricted to one region R lives in R's bucket (or R's
  nearest ancestor's, when the map has no entry for R itself); used by items restricted to two
  different regions it is a *conflict*: reported, never moved;
- an organisation's brand kit (logo) and its co-brand renders live in its region's bucket;
- renditions follow their image (PortalRendition.get_upload_to);
- everything else lives in the default bucket.

A move is crash-safe: copy to the new name, verify (size and SHA-1 read back), repoint the row,
and only after the commit delete the old object. A crash leaves at worst an unreferenced copy,
which ``storage_orphans`` finds; never a row whose object is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction

from .storage import item_region_key, organization_region_key, prefixed, split_name

CONFLICT = "conflict"


@dataclass
class Placement:
    """One stored file of one row, where it is and where its rules want it."""

    label: str
    model: type
    pk: int
    field: str
    name: str
    required: str | None  # residency key, None for the default bucket, or CONFLICT

    @property
    def current(self) -> str | None:
        return split_name(self.name)[0]

    @property
    def misplaced(self) -> bool:
        return self.required != CONFLICT and self.required != self.current


def _required(keys: set[str | None]) -> str | None:
    regional = {k for k in keys if k is not None}
    if len(regional) > 1:
        return CONFLICT
    return next(iter(regional), None)


def placements() -> Iterator[Placement]:
    """Every file-bearing row of documents, images, brand kits and co-brand renders, with its
    required bucket."""
    from kb.models import (
        CobrandRender,
        ItemAttachment,
        MarketingAssetPage,
        PortalDocument,
        PortalImage,
    )
    from kb.models.pages import PortalItemPage
    from permissions.models import PartnerOrganization

    region_of_page: dict[int, str | None] = {}

    def page_key(page_id: int) -> str | None:
        if page_id not in region_of_page:
            region_of_page[page_id] = item_region_key(PortalItemPage(pk=page_id))
        return region_of_page[page_id]

    doc_pages: dict[int, set[int]] = {}
    for doc_id, page_id in ItemAttachment.objects.values_list("document_id", "page_id"):
        doc_pages.setdefault(doc_id, set()).add(page_id)
    image_pages: dict[int, set[int]] = {}
    for page_id, doc_id, image_id in MarketingAssetPage.objects.values_list(
        "pk", "master_document_id", "master_image_id"
    ):
        if doc_id:
            doc_pages.setdefault(doc_id, set()).add(page_id)
        if image_id:
            image_pages.setdefault(image_id, set()).add(page_id)
    for page_id, image_id in PortalItemPage.objects.filter(cover_image__isnull=False).values_list(
        "pk", "cover_image_id"
    ):
        image_pages.setdefault(image_id, set()).add(page_id)

    for pk, name in PortalDocument.objects.values_list("pk", "file").order_by("pk"):
        keys = {page_key(p) for p in doc_pages.get(pk, ())}
        yield Placement(f"document {pk}", PortalDocument, pk, "file", name, _required(keys))
    for pk, name in PortalImage.objects.values_list("pk", "file").order_by("pk"):
        keys = {page_key(p) for p in image_pages.get(pk, ())}
        yield Placement(f"image {pk}", PortalImage, pk, "file", name, _required(keys))
    for org in PartnerOrganization.objects.exclude(logo="").select_related("region__parent"):
        yield Placement(
            f"brand kit of {org.key}",
            PartnerOrganization,
            org.pk,
            "logo",
            org.logo.name,
            organization_region_key(org),
        )
    renders = CobrandRender.objects.select_related("organization__region__parent").order_by("pk")
    for render in renders:
        yield Placement(
            f"co-brand render {render.pk} of {render.organization.key}",
            CobrandRender,
            render.pk,
            "file",
            render.file.name,
            organization_region_key(render.organization),
        )


def item_placements(page_id: int) -> list[Placement]:
    """The placements of one item's documents and images (each judged by *all* the items that
    use it, so a file shared with another region's item is still a conflict)."""
    from kb.models import ItemAttachment, MarketingAssetPage, PortalDocument, PortalImage
    from kb.models.pages import PortalItemPage

    page = PortalItemPage.objects.filter(pk=page_id).first()
    if page is None:
        return []
    specific = page.specific
    doc_ids = set(
        ItemAttachment.objects.filter(page_id=page_id).values_list("document_id", flat=True)
    )
    image_ids = {page.cover_image_id} - {None}
    if isinstance(specific, MarketingAssetPage):
        doc_ids |= {specific.master_document_id} - {None}
        image_ids |= {specific.master_image_id} - {None}
    keys: dict[int, str | None] = {}

    def required(page_ids: set[int]) -> str | None:
        for pk in page_ids - keys.keys():
            keys[pk] = item_region_key(PortalItemPage(pk=pk))
        return _required({keys[pk] for pk in page_ids})

    result = []
    for document in PortalDocument.objects.filter(pk__in=doc_ids):
        users = set(
            ItemAttachment.objects.filter(document=document).values_list("page_id", flat=True)
        )
        users |= set(
            MarketingAssetPage.objects.filter(master_document=document).values_list("pk", flat=True)
        )
        result.append(
            Placement(
                f"document {document.pk}",
                PortalDocument,
                document.pk,
                "file",
                document.file.name,
                required(users),
            )
        )
    for image in PortalImage.objects.filter(pk__in=image_ids):
        users = set(PortalItemPage.objects.filter(cover_image=image).values_list("pk", flat=True))
        users |= set(
            MarketingAssetPage.objects.filter(master_image=image).values_list("pk", flat=True)
        )
        result.append(
            Placement(
                f"image {image.pk}", PortalImage, image.pk, "file", image.file.name, required(users)
            )
        )
    return result


def _sha1(name: str) -> tuple[int, str]:
    digest, size = hashlib.sha1(usedforsecurity=False), 0
    with default_storage.open(name, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def placement_move(placement: Placement) -> str:
    """Move one misplaced file to the bucket its rules require; return the new name.

    Raises:
        RuntimeError: the copy did not verify (the copy is removed, the row unchanged).
    """
    old = placement.name
    before = _sha1(old)
    with default_storage.open(old, "rb") as handle:
        new = default_storage.save(prefixed(old, placement.required), handle)
    if _sha1(new) != before:
        default_storage.delete(new)
        raise RuntimeError(f"{placement.label}: copy of {old} did not verify; nothing changed")
    with transaction.atomic():
        updated = placement.model.objects.filter(pk=placement.pk, **{placement.field: old}).update(
            **{placement.field: new}
        )
        if not updated:
            # The row changed meanwhile: keep it as it is and drop our copy.
            transaction.on_commit(lambda: default_storage.delete(new))
            return old
        if placement.model.__name__ == "PortalImage":
            # Renditions regenerate next to their image (PortalRendition.get_upload_to).
            from kb.models import PortalRendition

            for rendition in PortalRendition.objects.filter(image_id=placement.pk):
                rendition.delete()
        transaction.on_commit(lambda: default_storage.delete(old))
    return new
