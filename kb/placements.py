"""Where an item's files must be stored (data residency), as kb sees it: a document or image
is required in the bucket of the one region the items using it are restricted to
(permissions.selectors.item_single_region); files/residency.py moves them."""

from __future__ import annotations

from collections.abc import Iterator

from files.residency import Placement, required_key
from files.storage import region_key_for


def item_region_key(page) -> str | None:
    """Residency map key that an item's files must live under, or None for the default bucket."""
    from permissions.selectors import item_single_region

    return region_key_for(item_single_region(page))


def document_and_image_placements() -> Iterator[Placement]:
    """Every document and image, required where the items that use them are restricted to."""
    from files.models import PortalDocument, PortalImage
    from kb.models import ItemAttachment, MarketingAssetPage
    from kb.models.pages import PortalItemPage

    region_of_page: dict[int, str | None] = {}

    def page_key(page_id: int) -> str | None:
        if page_id not in region_of_page:
            region_of_page[page_id] = item_region_key(PortalItemPage(pk=page_id))
        return region_of_page[page_id]

    # Keyed by the file (lineage): every version of a file lives where the items using any of
    # its versions require, so an older version stays in its region for a rollback.
    doc_pages: dict[int, set[int]] = {}
    for lineage, page_id in ItemAttachment.objects.values_list("document__lineage", "page_id"):
        doc_pages.setdefault(lineage, set()).add(page_id)
    image_pages: dict[int, set[int]] = {}
    for page_id, doc_id, image_id in MarketingAssetPage.objects.values_list(
        "pk", "master_document__lineage", "master_image_id"
    ):
        if doc_id:
            doc_pages.setdefault(doc_id, set()).add(page_id)
        if image_id:
            image_pages.setdefault(image_id, set()).add(page_id)
    for page_id, image_id in PortalItemPage.objects.filter(cover_image__isnull=False).values_list(
        "pk", "cover_image_id"
    ):
        image_pages.setdefault(image_id, set()).add(page_id)

    for pk, lineage, name in (
        PortalDocument.objects.filter(deleted_at__isnull=True)
        .values_list("pk", "lineage", "file")
        .order_by("pk")
    ):
        keys = {page_key(p) for p in doc_pages.get(lineage or pk, ())}
        yield Placement(f"document {pk}", PortalDocument, pk, "file", name, required_key(keys))
    for pk, name in PortalImage.objects.values_list("pk", "file").order_by("pk"):
        keys = {page_key(p) for p in image_pages.get(pk, ())}
        yield Placement(f"image {pk}", PortalImage, pk, "file", name, required_key(keys))


def item_placements(page_id: int) -> list[Placement]:
    """The placements of one item's documents and images (each judged by *all* the items that
    use it, so a file shared with another region's item is still a conflict)."""
    from files.models import PortalDocument, PortalImage
    from kb.models import ItemAttachment, MarketingAssetPage
    from kb.models.pages import PortalItemPage

    page = PortalItemPage.objects.filter(pk=page_id).first()
    if page is None:
        return []
    specific = page.specific
    lineages = set(
        ItemAttachment.objects.filter(page_id=page_id).values_list("document__lineage", flat=True)
    )
    image_ids = {page.cover_image_id} - {None}
    if isinstance(specific, MarketingAssetPage) and specific.master_document_id:
        lineages.add(specific.master_document.lineage)  # type: ignore[union-attr]
        image_ids |= {specific.master_image_id} - {None}
    keys: dict[int, str | None] = {}

    def required(page_ids: set[int]) -> str | None:
        for pk in page_ids - keys.keys():
            keys[pk] = item_region_key(PortalItemPage(pk=pk))
        return required_key({keys[pk] for pk in page_ids})

    result = []
    # Every version of each file the item uses, judged by all the items using any version.
    for document in PortalDocument.objects.filter(
        lineage__in=lineages - {None}, deleted_at__isnull=True
    ):
        users = set(
            ItemAttachment.objects.filter(document__lineage=document.lineage).values_list(
                "page_id", flat=True
            )
        )
        users |= set(
            MarketingAssetPage.objects.filter(
                master_document__lineage=document.lineage
            ).values_list("pk", flat=True)
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
