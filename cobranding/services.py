"""Making (or reusing) a co-brand render. Callers have asked ``permissions.policies`` first."""

from __future__ import annotations

import functools
import hashlib
import json
from contextlib import nullcontext
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from .models import CobrandRender
from .render import render_cobranded_image

if TYPE_CHECKING:
    from files.models import PortalImage
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization


class NotCobrandable(Exception):
    """The item has nothing to co-brand (not a co-brandable marketing asset with a master
    image)."""


def cobrand_source(item: PortalItemPage) -> PortalImage | None:
    """The image a co-brand render of ``item`` starts from, or None when it cannot have one.

    On a translation: its localized master image when there is one, else the source's
    (``kb.selectors.localized_asset``); the render's key names the image, so either is cached
    apart."""
    from kb.models import MarketingAssetPage
    from kb.selectors import localized_asset

    specific = item.specific
    if not isinstance(specific, MarketingAssetPage) or not specific.co_brandable:
        return None
    image: PortalImage | None = localized_asset(specific, "master_image").file
    return image


def brandkit_fingerprint(organization: PartnerOrganization) -> str:
    """Changes whenever anything a render shows of the brand kit changes."""
    kit = [
        organization.name,
        organization.logo.name if organization.logo else "",
        organization.primary_color,
        organization.secondary_color,
        organization.contact_block,
    ]
    return hashlib.sha256(json.dumps(kit).encode()).hexdigest()[:16]


def source_fingerprint(
    item: PortalItemPage, image: PortalImage, organization: PartnerOrganization
) -> str:
    """``r<live revision>-i<image>.<file>-k<brand kit>``: a new render when any of them changes
    (a replaced image file keeps the image's id but not its file name)."""
    image_file = hashlib.sha256(image.file.name.encode()).hexdigest()[:8]
    return (
        f"r{item.live_revision_id or 0}-i{image.pk}.{image_file}-"
        f"k{brandkit_fingerprint(organization)}"
    )


def _contact_lines(organization: PartnerOrganization) -> list[str]:
    lines = [line for line in organization.contact_block.splitlines() if line.strip()]
    return lines or [organization.name]


def _stored_render(
    organization: PartnerOrganization, item_id: int, fingerprint: str
) -> CobrandRender | None:
    return CobrandRender.objects.filter(
        organization=organization, item_id=item_id, fingerprint=fingerprint
    ).first()


def cobrand_render_ensure(
    *, item: PortalItemPage, organization: PartnerOrganization
) -> CobrandRender:
    """The render of ``item`` for ``organization`` from the current sources: the stored one if
    there is one, else a new one (stored in the organisation's residency bucket). Renders of
    older sources are deleted (rows now, objects after the commit).

    All or nothing: the object is stored before its row; if the row cannot be written the object
    is deleted again. Two requests racing for the same render both end with the one row.

    Raises:
        NotCobrandable: the item has no master image to co-brand.
        FileNotFoundError: the master image's file is missing from the store.
        botocore errors: the store failed (the view answers 503).
    """
    image = cobrand_source(item)
    if image is None:
        raise NotCobrandable(item.pk)
    fingerprint = source_fingerprint(item, image, organization)
    existing = _stored_render(organization, item.pk, fingerprint)
    if existing is not None:
        return existing

    logo_file = organization.logo.open("rb") if organization.logo else nullcontext(None)
    with image.open_file() as master, logo_file as logo:
        content, ext = render_cobranded_image(
            master,
            logo=logo,
            lines=_contact_lines(organization),
            primary=organization.primary_color,
            secondary=organization.secondary_color,
            font_path=settings.PORTAL_COBRAND_FONT,
        )

    render = CobrandRender(organization=organization, item_id=item.pk, fingerprint=fingerprint)
    render.file.save(f"{item.slug}{ext}", ContentFile(content), save=False)
    storage, name = render.file.storage, render.file.name
    try:
        with transaction.atomic():
            render.save()
            superseded = list(
                CobrandRender.objects.filter(organization=organization, item_id=item.pk)
                .exclude(pk=render.pk)
                .values_list("pk", "file")
            )
            CobrandRender.objects.filter(pk__in=[pk for pk, _ in superseded]).delete()
    except IntegrityError:
        # Another request stored the same render first: keep theirs, drop ours.
        storage.delete(name)
        return CobrandRender.objects.get(
            organization=organization, item_id=item.pk, fingerprint=fingerprint
        )
    except BaseException:
        storage.delete(name)
        raise
    for _, old in superseded:
        transaction.on_commit(functools.partial(storage.delete, old))
    return render
