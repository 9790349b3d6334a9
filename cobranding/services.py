"""Co-branding writes: ask for a render (cached per key, made by a background task), run a
render, hand out a stamped copy, save a template. Callers have asked ``permissions.policies``.

The cache key of a render (``render_key``): organisation, item, the master (kind, pk, version
number, SHA-256 of its content), the template version (0 = the default layout) and the
organisation's ``brand_kit_version``. Any of them changing makes the next request render
afresh; the same key reuses the one render (``docs/cobranding.md``).
"""

from __future__ import annotations

import functools
import logging
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from wagtail.images.models import SourceImageIOError

from . import engine
from .models import (
    CobrandIssue,
    CobrandRender,
    CobrandTemplate,
    CobrandTemplateVersion,
    MasterKind,
    new_token,
)

if TYPE_CHECKING:
    from files.models import PortalDocument, PortalImage
    from kb.models import PortalItemPage
    from permissions.models import PartnerOrganization

logger = logging.getLogger("portal.cobranding")


class NotCobrandable(Exception):  # noqa: N818 - the contract's name
    """The item has nothing to co-brand; ``str(exc)`` says why, for a person."""


@dataclass(frozen=True)
class Master:
    """The file a render of an item starts from: a master image, or ONE version of a master
    PDF document (the version the item's live revision gives partners)."""

    kind: str  # MasterKind
    file: PortalImage | PortalDocument
    pk: int
    version: int  # a document's version_number; images have no versions: 1
    lineage: int | None  # documents only

    @property
    def sha256(self) -> str:
        return self.file.get_sha256()


@dataclass(frozen=True)
class StampedFile:
    """One co-branded download: the render's bytes with this download's token stamped in."""

    content: bytes
    filename: str
    media_type: str
    token: str


def _is_pdf(document: PortalDocument) -> bool:
    return (document.file_extension or "").lower() == "pdf"


def cobrand_master(item: PortalItemPage) -> Master:
    """The master a co-brand render of ``item`` starts from.

    A co-brandable marketing asset's current master DOCUMENT when it is a PDF (on a
    translation: its localized one, else the source's, ``kb.selectors.localized_asset``), else
    its master image. A deleted version has no file: not co-brandable.

    Raises:
        NotCobrandable: not a co-brandable asset, or its master is neither a PDF nor an image.
    """
    from kb.models import MarketingAssetPage
    from kb.selectors import localized_asset

    specific = item.specific
    if not isinstance(specific, MarketingAssetPage) or not specific.co_brandable:
        raise NotCobrandable(_("This item cannot be co-branded."))
    document = localized_asset(specific, "master_document").file
    if document is not None and document.deleted_at is None and _is_pdf(document):
        return Master(
            MasterKind.DOCUMENT,
            document,
            document.pk,
            document.version_number,
            document.lineage or document.pk,
        )
    image = localized_asset(specific, "master_image").file
    if image is not None:
        return Master(MasterKind.IMAGE, image, image.pk, 1, None)
    if document is not None and document.deleted_at is None:
        raise NotCobrandable(
            _(
                "This asset's master is a %(type)s file: only PDF documents and images can be "
                "co-branded."
            )
            % {"type": (document.file_extension or "?").upper()}
        )
    raise NotCobrandable(_("This asset has no master file to co-brand."))


def master_template(*, kind: str, master_id: int) -> CobrandTemplate | None:
    """The template of a master: ``master_id`` is an image pk or a document LINEAGE."""
    if kind == MasterKind.IMAGE:
        return CobrandTemplate.objects.filter(image_id=master_id).first()
    return CobrandTemplate.objects.filter(lineage=master_id).first()


def _template_of(master: Master) -> CobrandTemplate | None:
    key = master.pk if master.kind == MasterKind.IMAGE else master.lineage
    return master_template(kind=master.kind, master_id=key or 0)


def render_key(item: PortalItemPage, organization: PartnerOrganization, master: Master) -> dict:
    """The cache key of the render ``item`` gets for ``organization`` now (see module doc)."""
    template = _template_of(master)
    return {
        "organization": organization,
        "item_id": item.pk,
        "master_kind": master.kind,
        "master_id": master.pk,
        "master_sha256": master.sha256,
        "template_version": template.version if template is not None else 0,
        "brand_kit_version": organization.brand_kit_version,
    }


def _delete_object_after_commit(storage, name: str) -> None:
    if name:
        transaction.on_commit(functools.partial(storage.delete, name))


#: A render still pending after this long is enqueued again when asked for (see cobrand_request).
PENDING_RETRY_AFTER = timedelta(minutes=10)


def _stored_render(key: dict) -> CobrandRender | None:
    return CobrandRender.objects.filter(**key).first()


def cobrand_request(
    item: PortalItemPage, organization: PartnerOrganization, user=None
) -> CobrandRender:
    """The render of ``item`` for ``organization`` from the current sources: the stored one
    (ready, or still pending), or a new PENDING one with its background task enqueued. A failed
    one is tried again. Renders of the item for the organisation from older sources are deleted
    (rows now, stored objects after the commit; their issues stay for ``identify``).

    With the immediate task backend (tests, dev) the render is made before this returns.

    Raises:
        NotCobrandable: the item has no master to co-brand (``str(exc)`` says why).
    """
    from .tasks import cobrand_render_task

    master = cobrand_master(item)
    key = render_key(item, organization, master)
    render = _stored_render(key)
    if render is not None and render.status == CobrandRender.Status.READY:
        return render
    if render is not None and render.status == CobrandRender.Status.PENDING:
        # A job lost on the way (a worker killed mid-render, a queue emptied) would leave the
        # partner on "Preparing…" for ever: after a while, asking again enqueues it again (two
        # runs cannot both finish it: render_run only completes a row that is still pending).
        if render.created_at > timezone.now() - PENDING_RETRY_AFTER:
            return render
        cobrand_render_task.enqueue(render_id=render.pk)
        render.refresh_from_db()
        return render
    with transaction.atomic():
        if render is None:
            try:
                with transaction.atomic():
                    render = CobrandRender.objects.create(
                        **key, master_version=master.version, status=CobrandRender.Status.PENDING
                    )
            except IntegrityError:
                # Another request made the same render first: theirs it is.
                return CobrandRender.objects.get(**key)
        else:
            # A failed render is tried again by the first request that asks: a conditional
            # update, so two requests racing here enqueue one retry, not two.
            retried = CobrandRender.objects.filter(
                pk=render.pk, status=CobrandRender.Status.FAILED
            ).update(status=CobrandRender.Status.PENDING, error="")
            if not retried:
                render.refresh_from_db()
                return render
        superseded = CobrandRender.objects.filter(
            organization=organization, item_id=item.pk
        ).exclude(pk=render.pk)
        for old in superseded:
            _delete_object_after_commit(old.file.storage, old.file.name)
        superseded.delete()
    # Enqueued in the request's transaction: the database backend's worker sees the job only
    # once the row is committed; the immediate backend renders right here.
    cobrand_render_task.enqueue(render_id=render.pk)
    render.refresh_from_db()
    return render


# --- making a render ------------------------------------------------------------------------


def brand_kit(organization: PartnerOrganization) -> engine.BrandKit:
    """The engine's view of an organisation's brand kit (logo bytes read from its store)."""
    logo = None
    if organization.logo:
        with organization.logo.open("rb") as handle:
            logo = handle.read()
    return engine.BrandKit(
        name=organization.name,
        contact_name=organization.contact_name,
        contact_phone=organization.contact_phone,
        contact_email=organization.contact_email,
        contact_web=organization.contact_web,
        address=organization.contact_block,
        primary_color=organization.primary_color,
        secondary_color=organization.secondary_color,
        logo=logo,
    )


def sample_brand_kit() -> engine.BrandKit:
    """The admin preview's brand kit (``engine.sample_kit``: a generated logo and contact
    details with diacritics, so a template is tried with real partners' names)."""
    return engine.sample_kit()


def watermark_text(organization_name: str) -> str:
    return _("Confidential · prepared for %(name)s") % {"name": organization_name}


def render_master(
    *,
    kind: str,
    master: bytes,
    layout: engine.Layout,
    kit: engine.BrandKit,
    confidential: bool = False,
) -> engine.Rendered:
    """Render ``master`` (bytes) with the engine. Raises ``engine.CobrandError``."""
    text = watermark_text(kit.name) if confidential else None
    render = engine.render_pdf if kind == MasterKind.DOCUMENT else engine.render_image
    return render(master, layout, kit, watermark_text=text)


def render_layout(render: CobrandRender) -> tuple[engine.Layout, bool]:
    """The layout (and the confidential flag) a render uses: its template's version, or the
    default layout (template version 0)."""
    if render.template_version:
        template_key = {"image_id": render.master_id}
        if render.master_kind == MasterKind.DOCUMENT:
            template_key = {"lineage": _master_file(render).lineage or render.master_id}
        saved = CobrandTemplateVersion.objects.filter(
            template__in=CobrandTemplate.objects.filter(**template_key),
            version=render.template_version,
        ).first()
        if saved is not None:
            return engine.layout_from_json(saved.layout), saved.confidential
    return engine.default_layout("pdf" if render.master_kind == MasterKind.DOCUMENT else "image"), (
        False
    )


def _master_file(render: CobrandRender):
    from files.models import PortalDocument, PortalImage

    model = PortalDocument if render.master_kind == MasterKind.DOCUMENT else PortalImage
    return model.objects.get(pk=render.master_id)


def _read(file) -> bytes:
    with file.open_file() as handle:
        return handle.read()


FIELD_LABELS = {
    "name": _lazy("company name"),
    "contact_name": _lazy("contact name"),
    "contact_phone": _lazy("phone number"),
    "contact_email": _lazy("e-mail address"),
    "contact_web": _lazy("web address"),
    "address": _lazy("contact block"),
}


def partner_message(exc: engine.CobrandError) -> str:
    """The engine's error in the partner's terms: what in THEIR brand kit to change (the
    engine's own message speaks to the template's editor: zones, sizes)."""
    field = str(FIELD_LABELS.get(getattr(exc, "field", ""), _("contact details")))
    if isinstance(exc, engine.TextDoesNotFit):
        return _(
            "Your %(field)s is too long for the space this asset gives it; shorten it in your "
            "brand kit."
        ) % {"field": field}
    if isinstance(exc, engine.UnsupportedScript):
        return _(
            "Your %(field)s uses characters the co-brand font cannot show (%(characters)s); "
            "change it in your brand kit."
        ) % {"field": field, "characters": getattr(exc, "characters", "")}
    if isinstance(exc, engine.LogoError):
        return _("Your logo cannot be used (%(reason)s); upload another in your brand kit.") % {
            "reason": str(exc).rstrip(".")
        }
    return _("This asset cannot be co-branded at the moment: %(reason)s") % {"reason": str(exc)}


#: The first half of the key of a render's PostgreSQL advisory lock (the render's pk is the
#: second): the class id of "co-brand renders" among the portal's advisory locks.
RENDER_LOCK_CLASS = 0x0C0B


@contextmanager
def _render_lock(render_id: int) -> Iterator[bool]:
    """Hold the lock of render ``render_id`` while making it; yields False if another run
    (another worker, a retry enqueued while the first run was still going) holds it.

    PostgreSQL: a session advisory lock, held across the render's own commits and released at
    the end, or by the server when the worker's connection dies (a killed worker leaves no
    stale lock: the retry of ``cobrand_request`` finds it free). SQLite (one node, one writer):
    no lock; ``_mark_ready``'s conditional update still keeps one object per render.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = [RENDER_LOCK_CLASS, render_id % 2**31]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::integer, %s::integer)", key)
        (locked,) = cursor.fetchone()
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s::integer, %s::integer)", key)


def render_run(render_id: int) -> str:
    """Make a pending render (the background task's body). Returns its status afterwards.

    Made once: a run holds the render's lock (``_render_lock``) while it works; a second run of
    the same render meanwhile (two workers, a retry) does nothing and returns "pending".

    All or nothing: the object is stored before the row says ready; if the row is gone or no
    longer pending (superseded meanwhile), the object is deleted again. A bad input (corrupt
    master, a layout that does not fit, text that cannot fit…) marks the render failed with the
    engine's message for the partner; nothing is stored.
    """
    with _render_lock(render_id) as locked:
        if not locked:
            return CobrandRender.Status.PENDING  # another run is making it
        return _render_run(render_id)


def _render_run(render_id: int) -> str:
    # Read under the lock: a run that finished while this one waited has made it ready.
    render = (
        CobrandRender.objects.select_related("organization", "item").filter(pk=render_id).first()
    )
    if render is None or render.status != CobrandRender.Status.PENDING:
        return render.status if render is not None else "gone"
    try:
        layout, confidential = render_layout(render)
        master = _read(_master_file(render))
        rendered = render_master(
            kind=render.master_kind,
            master=master,
            layout=layout,
            kit=brand_kit(render.organization),
            confidential=confidential,
        )
    except engine.CobrandError as exc:
        return _fail(render, partner_message(exc))
    except (FileNotFoundError, SourceImageIOError, ObjectDoesNotExist):
        return _fail(render, _("The master file of this asset is missing; please tell the vendor."))
    except Exception:
        logger.exception("co-brand render %s failed", render.pk)
        return _fail(
            render, _("We could not prepare your co-branded copy. Please try again later.")
        )

    try:
        render.file.save(
            f"{render.item.slug}{rendered.ext}", ContentFile(rendered.content), save=False
        )
    except Exception:
        # The store failed (S3 down…): nothing was stored, the partner may try again.
        logger.exception("co-brand render %s could not be stored", render.pk)
        return _fail(
            render, _("We could not prepare your co-branded copy. Please try again later.")
        )
    storage, name = render.file.storage, render.file.name
    try:
        done = _mark_ready(render.pk, name)
    except Exception:
        # The row could not say ready: no object without its row, and the partner is told.
        storage.delete(name)
        logger.exception("co-brand render %s could not be recorded", render.pk)
        return _fail(
            render, _("We could not prepare your co-branded copy. Please try again later.")
        )
    if not done:  # superseded (deleted) while rendering: keep no stray object
        storage.delete(name)
        return "gone"
    return CobrandRender.Status.READY


def _mark_ready(render_id: int, name: str) -> bool:
    """The row says ready with its file, if still pending (else: superseded, False)."""
    return bool(
        CobrandRender.objects.filter(pk=render_id, status=CobrandRender.Status.PENDING).update(
            status=CobrandRender.Status.READY, file=name, error="", rendered_at=timezone.now()
        )
    )


def _fail(render: CobrandRender, message: str) -> str:
    CobrandRender.objects.filter(pk=render.pk, status=CobrandRender.Status.PENDING).update(
        status=CobrandRender.Status.FAILED, error=message
    )
    return CobrandRender.Status.FAILED


# --- per-download stamp ---------------------------------------------------------------------


def _media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def cobranded_file(
    render: CobrandRender, *, user=None, share_link_id: int | None = None
) -> StampedFile:
    """One download of a ready render: records a ``CobrandIssue`` (a fresh random token and
    snapshots of organisation, user e-mail, item, master version, render time) and returns the
    render's bytes with the token stamped into their metadata (no re-render, no re-encode).

    ``user`` is whoever the file is handed to on the portal (for a share link: the partner who
    shared it). All or nothing: if stamping fails, no issue row is kept.

    Raises:
        ValueError: the render is not ready.
    """
    if not render.is_ready:
        raise ValueError(f"render {render.pk} is not ready")
    with render.file.open("rb") as handle:
        content = handle.read()
    media_type = _media_type(render.file.name)
    item = render.item
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        issue = CobrandIssue.objects.create(
            token=new_token(),
            render=render,
            organization=render.organization,
            organization_key=render.organization.key,
            user_id=user_id,
            user_email=(user.email if user_id else "")[:254],
            item_id=item.pk,
            item_page_id=item.pk,
            item_key=_item_key(item),
            item_title=item.title[:255],
            master_kind=render.master_kind,
            master_version=render.master_version,
            template_version=render.template_version,
            brand_kit_version=render.brand_kit_version,
            rendered_at=render.rendered_at or render.created_at,
            share_link_id=share_link_id,
        )
        stamped = engine.stamp(content, media_type, issue.token)
    return StampedFile(stamped, render.filename, media_type, issue.token)


def _item_key(item) -> str:
    from kb.models import ItemKey

    return ItemKey.objects.filter(page_id=item.pk).values_list("key", flat=True).first() or ""


# --- templates ------------------------------------------------------------------------------


def template_save(
    *,
    kind: str,
    master_id: int,
    layout: engine.Layout,
    confidential: bool = False,
    user=None,
) -> CobrandTemplate:
    """Save a master's template as its next version (the first save makes version 1); earlier
    versions stay in ``CobrandTemplateVersion``. Renders using an older version are not touched:
    the next request's key names the new version, so it renders afresh.

    ``master_id`` is the image pk or the document lineage. Raises ``engine.LayoutError``.
    """
    data = engine.layout_to_json(layout)
    engine.layout_from_json(data)  # refuse what the engine would refuse at render time
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    master = {"image_id": master_id} if kind == MasterKind.IMAGE else {"lineage": master_id}
    with transaction.atomic():
        template = CobrandTemplate.objects.select_for_update().filter(**master).first()
        if template is None:
            template = CobrandTemplate(**master, version=1)
        else:
            template.version += 1
        template.layout, template.confidential, template.updated_by_id = data, confidential, user_id
        template.save()
        CobrandTemplateVersion.objects.create(
            template=template,
            version=template.version,
            layout=data,
            confidential=confidential,
            created_by_id=user_id,
        )
    return template


def template_preview(
    *, kind: str, master: bytes, layout: engine.Layout, confidential: bool = False
) -> engine.Rendered:
    """The admin's live preview: ``master`` rendered with ``layout`` and the sample kit."""
    return render_master(
        kind=kind, master=master, layout=layout, kit=sample_brand_kit(), confidential=confidential
    )
