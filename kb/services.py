"""Writes of content: the admin, import_bundle, seed_demo and benchmarks all come through here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from wagtail import hooks
from wagtail.blocks import StreamValue
from wagtail.models import Locale, Page, Revision, Site, TaskState, WorkflowState

from files.models import PortalDocument, PortalImage
from files.storage import content_sha256
from files.uploads import StoredFiles, file_row_create
from permissions.models import PartnerOrganization, PartnerType, Region, Tier
from permissions.policies.principal import principal_for
from permissions.services import approval_workflow_ensure

from .models import (
    DownloadEvent,
    ItemAttachment,
    ItemKey,
    LibraryIndexPage,
    PortalHomePage,
    PortalItemPage,
    Product,
    ProductSheetPage,
    ProductSheetVersion,
)
from .models.pages import MODEL_BY_CONTENT_KIND
from .placements import item_region_key

if TYPE_CHECKING:
    from datetime import datetime


@dataclass
class Audience:
    """An item's own audience. Empty lists / None mean "no restriction" in that dimension."""

    min_tier: Tier | None = None
    regions: Sequence[Region] = ()
    partner_types: Sequence[PartnerType] = ()
    public: bool = False
    grants: Sequence[PartnerOrganization] = ()
    exceptions: Sequence[PartnerOrganization] = ()


@dataclass
class FileSpec:
    """One file of an item. ``language`` is accepted for older callers and not stored: a file's
    language is its item's locale (localized files are attachments of the translation,
    localization.services.localized_file_attach)."""

    name: str
    content: bytes
    language: str = "en"
    title: str = ""
    # On a translation: the title of the source's attachment this file localizes (its master).
    localizes: str = ""
    # The label / "what changed" of the version these bytes are: given to a new version when the
    # bytes changed, or set on the current version when only they changed; None leaves it as is.
    version_label: str | None = None
    version_notes: str | None = None


class _Keep(Enum):
    KEEP = "keep"


# ``item_upsert``'s go_live_at / expire_at default: leave the page's times as they are (None
# clears them). Callers that own the schedule (import_bundle) always pass a value.
KEEP = _Keep.KEEP


@transaction.atomic
def site_structure_ensure(
    *, hostname: str = "127.0.0.1", port: int = 8000
) -> dict[str, PortalHomePage]:
    """Make sure every content locale has a portal home and a "Library" section; idempotent.

    Returns the home page per language code. Apps above kb complete what they own for the homes
    through the ``portal_site_structure_ensured`` hook (``fn(homes=...)``; localization: the
    marketers' groups and the translation review workflow).
    """
    locales = locales_ensure()
    default = Locale.get_default()
    root = Page.get_first_root_node()
    home = PortalHomePage.objects.filter(locale=default).first()
    if home is None:
        # Replace Wagtail's "Welcome to your new Wagtail site!" placeholder (and its Site).
        for placeholder in root.get_children().filter(content_type__model="page", slug="home"):
            if not placeholder.get_children().exists():
                placeholder.delete()
        home = root.add_child(
            instance=PortalHomePage(title="Partner Portal", slug="home", locale=default)
        )
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname=hostname,
            port=port,
            root_page=home,
            is_default_site=True,
            site_name="Partner Portal",
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
    library = LibraryIndexPage.objects.child_of(home).filter(slug="library").first()
    if library is None:
        library = home.add_child(instance=LibraryIndexPage(title="Library", slug="library"))
        library.save_revision().publish()
    homes = {default.language_code: home}
    for locale in locales:
        if locale.pk == default.pk:
            continue
        translated_home = home.get_translation_or_none(locale)
        if translated_home is None:
            translated_home = home.copy_for_translation(locale)
            translated_home.save_revision().publish()
        translated_lib = library.get_translation_or_none(locale)
        if translated_lib is None:
            translated_lib = library.copy_for_translation(locale)
            translated_lib.save_revision().publish()
        homes[locale.language_code] = translated_home.specific
    # Changes in the library trees are reviewed: Editors submit, Moderators approve and publish.
    approval_workflow_ensure(roots=homes.values())
    for fn in hooks.get_hooks("portal_site_structure_ensured"):
        fn(homes=homes)
    return homes


@transaction.atomic
def locales_ensure() -> list[Locale]:
    """Create a Locale for every configured content language (idempotent)."""
    return [
        Locale.objects.get_or_create(language_code=code)[0]
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]


def library_for_locale(language_code: str) -> LibraryIndexPage:
    """The top library section of a locale's portal (where items without a parent go)."""
    home = PortalHomePage.objects.get(locale__language_code=language_code)
    return LibraryIndexPage.objects.child_of(home).order_by("path").first()


def _audience_assign(page: Page, audience: Audience) -> None:
    """Set a page's own audience fields (in memory; saved and published by the caller)."""
    page.audience_public = audience.public
    page.audience_min_tier = audience.min_tier
    page.audience_regions = list(audience.regions)
    page.audience_partner_types = list(audience.partner_types)
    # Grants and exceptions are page fields too: published with the page's revision, and applied
    # (guardian mirror, compiled audience, audit) by permissions.services.audience_apply.
    page.audience_grants = list(audience.grants)
    page.audience_exceptions = list(audience.exceptions)


def _audience_state(page: Page) -> tuple:
    """A page's own audience as comparable values (keys of rows, sets for the lists)."""

    def keys(rows: Iterable) -> frozenset[int]:
        return frozenset(row.pk for row in rows)

    return (
        page.audience_public,
        page.audience_min_tier_id,
        keys(page.audience_regions.all()),
        keys(page.audience_partner_types.all()),
        keys(page.audience_grants.all()),
        keys(page.audience_exceptions.all()),
    )


@transaction.atomic
def section_upsert(
    *,
    parent: Page,
    slug: str,
    title: str,
    intro: str = "",
    audience: Audience | None = None,
    user=None,
) -> LibraryIndexPage:
    """Create or update the library section ``slug`` directly below ``parent`` and publish it.

    ``intro`` is rich text as stored (HTML). A section that is live and already has this title,
    intro and audience is left alone (no revision, no publish).

    Parameters:
        parent: a portal home or library section; the new section takes its locale.
        audience: the section's own audience; None is "no restriction" in every dimension.
        user: recorded on the revision and the publish log.
    """
    audience = audience or Audience()
    section = LibraryIndexPage.objects.child_of(parent).filter(slug=slug).first()
    if section is None:
        section = LibraryIndexPage(title=title, slug=slug, intro=intro, locale=parent.locale)
        _audience_assign(section, audience)
        parent.add_child(instance=section)
    else:
        before = (section.title, section.intro, _audience_state(section))
        section.title, section.intro = title, intro
        _audience_assign(section, audience)
        if section.live and before == (title, intro, _audience_state(section)):
            return section
    section.save_revision(user=user).publish(user=user)
    return section


def product_ensure(*, name: str) -> Product:
    """THE product named ``name`` (its key is the name slugified): the row in the default
    locale, created there when missing. Translations (same key, other locales) are made with
    the Translate action; items, bundles and the demo always name the source row."""
    key = slugify(name)[:50] or "product"
    product, _ = Product.objects.get_or_create(
        key=key, locale=Locale.get_default(), defaults={"name": name}
    )
    return product


def _unique_slug(parent: Page, base: str, exclude_pk: int | None = None) -> str:
    base = slugify(base)[:70] or "item"
    slug, n = base, 2
    siblings = parent.get_children()
    if exclude_pk:
        siblings = siblings.exclude(pk=exclude_pk)
    taken = set(siblings.values_list("slug", flat=True))
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def document_create(
    *,
    name: str,
    content: bytes,
    title: str = "",
    stored: StoredFiles | None = None,
    region_key: str | None = None,
) -> PortalDocument:
    """Check a file by its content, then store it as a document.

    Parameters:
        region_key: residency region whose bucket must hold the file (files.storage), or None for
            the default bucket.

    Raises:
        UploadRejected: the file was refused (files.validation); nothing was stored.
    """
    return file_row_create(
        PortalDocument,
        "document",
        name=name,
        content=content,
        title=title,
        stored=stored,
        region_key=region_key,
    )


def image_create(
    *, name: str, content: bytes, title: str = "", region_key: str | None = None
) -> PortalImage:
    """Check an image by its content, then store it (a translation's localized master image or
    cover; ``region_key`` as for ``document_create``).

    Raises:
        UploadRejected: the file was refused (files.validation); nothing was stored.
    """
    return file_row_create(
        PortalImage, "image", name=name, content=content, title=title, region_key=region_key
    )


TAG_MAX_LENGTH = 100  # taggit's Tag.name / Tag.slug
_TAG_RE = re.compile(r"^[^\W_]+(?:-[^\W_]+)*$")


def tag_normalise(value: str) -> str:
    """``value`` as a tag: stripped and lower-cased; then it must be a slug of letters (any
    script) and digits joined by single hyphens, at most 100 characters ("q4-2026").

    The normalised tag is its own taggit slug, so the tag's name, its slug, the search index's
    token and the ``?tag=`` link are one and the same string.

    Raises:
        ValueError: empty, too long, or not a slug after normalisation.
    """
    tag = value.strip().lower()
    if not tag:
        raise ValueError("a tag must not be empty")
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f'tag "{tag[:40]}…" is longer than {TAG_MAX_LENGTH} characters')
    if not _TAG_RE.match(tag):
        suggestion = slugify(tag, allow_unicode=True)
        hint = f' (e.g. "{suggestion}")' if suggestion else ""
        raise ValueError(f'tag "{tag}" must be letters and digits joined by single hyphens{hint}')
    return tag


@transaction.atomic
def item_upsert(
    *,
    key: str,
    kind: str,
    title: str,
    parent: Page,
    body: str = "",
    summary: str = "",
    product: Product | None = None,
    audience: Audience | None = None,
    files: Iterable[FileSpec] = (),
    extra: dict | None = None,
    tags: Iterable[str] | None = None,
    go_live_at: datetime | None | _Keep = KEEP,
    expire_at: datetime | None | _Keep = KEEP,
    publish: bool = True,
    stored: StoredFiles | None = None,
    user=None,
) -> PortalItemPage:
    """Create or update the item with external ``key`` under ``parent`` and publish it.

    ``tags`` replaces the item's tags (normalised with ``tag_normalise``, repeats dropped);
    ``None`` leaves an existing item's tags as they are. Tags are saved with the page and its
    revision, so they reach the search index only when the revision is published.

    ``go_live_at`` / ``expire_at`` (aware datetimes; None clears, ``KEEP`` leaves them) are the
    page's own. A go-live in the future SCHEDULES the revision instead of publishing it (Wagtail:
    the revision's ``approved_go_live_at``): a new item is not live until then, and a live item
    keeps serving its current content, files and times (its page row and attachment rows are not
    written; the change lives in the scheduled revision only) until the scheduler publishes it.
    ``expire_at`` is stored on the page: partners no longer see the item after it.

    A file whose attachment exists (matched by title) with other bytes becomes a NEW VERSION of
    that attachment's file (``files.versions.document_version_add``; same lineage, so the same
    download URL), adopted by the revision published here; the same bytes add nothing (SHA-256
    compared with the current version). See ``_sync_attachments``.

    Raises:
        ValueError: unknown ``kind``, a bad tag, or an existing item with this key is of another
            kind.
        UploadRejected: a file (or a new version) was refused; nothing of it was stored.
    """
    model = MODEL_BY_CONTENT_KIND.get(kind)
    if model is None:
        raise ValueError(f"unknown kind {kind!r}")
    wanted_tags = None if tags is None else list(dict.fromkeys(tag_normalise(t) for t in tags))
    audience = audience or Audience()
    existing = ItemKey.objects.filter(key=key).select_related("page").first()
    moved = False
    if existing is not None:
        page = existing.page.specific
        if not isinstance(page, model):
            raise ValueError(
                f"item {key!r} exists as another kind ({page.specific_class.__name__})"
            )
        if page.locale_id != parent.locale_id:
            raise ValueError(f"item {key!r} cannot move into another locale's tree")
        if page.get_parent().pk != parent.pk:
            moved = True  # a move is a change
            # The old slug may be taken under the new parent.
            page.slug = _unique_slug(parent, page.slug)
            page.save(update_fields=["slug"])
            page.move(parent, pos="last-child", user=user)
            page.refresh_from_db()
            page = page.specific
    else:
        page = model(locale=parent.locale)
    if page.locale_id != parent.locale_id:
        raise ValueError(f"item {key!r}: parent is in another locale")
    now = timezone.now()
    wanted_go_live = page.go_live_at if go_live_at is KEEP else go_live_at
    pending = _scheduled_revision(page) if existing is not None else None
    # A live item given a future go-live: the change waits in a scheduled revision, partners
    # keep the live rows until it is published (the page row is not written).
    deferred = bool(
        publish
        and existing is not None
        and page.live
        and page.live_revision_id
        and wanted_go_live is not None
        and wanted_go_live > now
    )
    if deferred and pending is not None:
        # Compare with (and build on) what is already scheduled, not with the live content.
        page = pending.as_object()
    before = None if existing is None or moved else _content_state(page, extra)
    page.title = title
    page.summary = summary
    page.body = body
    page.product = product
    for name, value in (extra or {}).items():
        setattr(page, name, value)
    _audience_assign(page, audience)
    if go_live_at is not KEEP:
        page.go_live_at = go_live_at
    if expire_at is not KEEP:
        page.expire_at = expire_at
    if wanted_tags is not None and sorted(wanted_tags) != sorted_tag_names(page):
        page.tags.set(wanted_tags)  # in memory (modelcluster); saved with the page below
    # A re-import of what is already live (or already scheduled) changes nothing: no revision,
    # no publish (which would move last_published_at and tell every partner who downloaded the
    # item that it changed).
    same = before is not None and before == _content_state(page, extra)
    if deferred:
        unchanged = same and pending is not None
    else:
        unchanged = same and (
            (not page.has_unpublished_changes and (page.live or not publish))
            or bool(
                publish
                and not page.live
                and pending is not None
                and wanted_go_live is not None
                and wanted_go_live > now
            )
            # Expired and taken offline by the scheduler: publishing it again (to be withdrawn
            # again) would only tell partners it changed.
            or bool(
                publish
                and page.expired
                and not page.live
                and page.expire_at is not None
                and page.expire_at <= now
            )
        )
    if existing is None:
        page.slug = _unique_slug(parent, title)
        parent.add_child(instance=page)
        ItemKey.objects.create(key=key, page=page)
    elif not unchanged and not deferred:
        page.save()
    version_go_live = (
        wanted_go_live if wanted_go_live is not None and wanted_go_live > now else None
    )
    files_changed = _sync_attachments(
        page, list(files), stored, in_memory=deferred, go_live_at=version_go_live
    )
    if not unchanged or files_changed:  # (files only: the page row is already as it should be)
        revision = page.save_revision(user=user, log_action=True)
        if publish:
            revision.publish(user=user)
            # Fresh: a scheduled revision's object holds its (not live) children in memory.
            page = PortalItemPage.objects.get(pk=page.pk).specific
    return page


def _scheduled_revision(page: Page):
    """``page``'s latest revision when it is approved and waiting for its go-live (a scheduled
    publish), else None."""
    latest = page.get_latest_revision()
    if latest is None or latest.approved_go_live_at is None or latest.pk == page.live_revision_id:
        return None
    return latest


def _content_state(page: PortalItemPage, extra: dict | None) -> tuple:
    """What ``item_upsert`` sets on a page, comparable before and after (files aside)."""
    return (
        page.title,
        page.summary,
        _comparable(page.body),
        page.product_id,
        tuple((name, _comparable(getattr(page, name))) for name in sorted(extra or {})),
        page.audience_public,
        page.audience_min_tier_id,
        sorted(r.pk for r in page.audience_regions.all()),
        sorted(t.pk for t in page.audience_partner_types.all()),
        sorted(o.pk for o in page.audience_grants.all()),
        sorted(o.pk for o in page.audience_exceptions.all()),
        sorted_tag_names(page),
        page.go_live_at,
        page.expire_at,
    )


def _comparable(value):
    # Rich text gets new random data-block-key attributes and StreamField values new block ids
    # whenever they are converted or assigned: compare without them.
    if isinstance(value, StreamValue):
        return [
            (child.block_type, _comparable(child.block.get_prep_value(child.value)))
            for child in value
        ]
    if isinstance(value, str):
        return _BLOCK_KEY.sub("", value)
    if isinstance(value, dict):  # list blocks' items carry an "id" too
        return {k: _comparable(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


_BLOCK_KEY = re.compile(r' data-block-key="[^"]*"')


def sorted_tag_names(page: PortalItemPage) -> list[str]:
    """The item's tag names in display order (alphabetical); uses prefetched tags if any."""
    if page.pk is None:
        return []
    return sorted(tag.name for tag in page.tags.all())


def _sync_attachments(
    page: PortalItemPage,
    files: list[FileSpec],
    stored: StoredFiles | None,
    *,
    in_memory: bool = False,
    go_live_at: datetime | None = None,
) -> bool:
    """Make the item's attachments ``files``; True when anything changed.

    Files are matched to attachments by title. Bytes equal to the attachment's current version
    (SHA-256) add nothing (a changed ``version_label`` / ``version_notes`` is set on that
    version); other bytes become a new version of the attachment's file (same lineage, so the
    same download URL; ``rollback_of`` names an older version with the same bytes), and the
    attachment points at it. An attachment the files no longer list is removed; its file's
    versions are deleted only when no item uses that file any more (``_delete_unused_documents``).

    A spec with ``localizes`` (on a translation) becomes the localized file of the source's
    attachment with that title, recorded as translating the master's current file when the
    file or its master is new (an unchanged re-import keeps what it translates).

    ``in_memory``: the attachments are changed on ``page``'s in-memory children only (a
    scheduled revision of a live item: the live rows stay as they are, nothing is deleted).
    ``go_live_at`` is recorded on new versions (the go-live of the revision adopting them).

    Raises:
        ValueError: ``localizes`` on a page that is no translation, or no such source file.
        UploadRejected: a file was refused (files.validation); nothing of it was stored.
    """
    children = list(page.attachments.all()) if page.pk else []
    current = {a.document.title: a for a in children}
    changed = False
    region_key = item_region_key(page)
    keep: list[ItemAttachment] = []
    masters: dict[str, ItemAttachment] = {}
    if any(spec.localizes for spec in files):
        from .selectors import translation_source

        source = translation_source(page)
        if source is None:
            raise ValueError(f"item {page.pk}: only a translation has localized files")
        masters = {
            a.title or a.document.title: a
            for a in source.attachments.filter(master__isnull=True).select_related("document")
        }
    for order, spec in enumerate(files):
        master = None
        if spec.localizes:
            master = masters.get(spec.localizes)
            if master is None:
                raise ValueError(f'item {page.pk}: the source has no file "{spec.localizes}"')
        title = spec.title or spec.name
        attachment = current.get(title)
        if attachment is not None and attachment.document.get_sha256() == content_sha256(
            spec.content
        ):
            file_version_describe(attachment.document, spec)
            touched = []
            if attachment.master_id != (master.pk if master else None):
                attachment.master = master
                attachment.master_sha256 = master.document.get_sha256() if master else ""
                touched += ["master", "master_sha256"]
            if attachment.sort_order != order:
                attachment.sort_order = order
                touched.append("sort_order")
            if touched:
                changed = True
                if not in_memory:
                    attachment.save(update_fields=touched)
        else:
            changed = True
            if attachment is None:
                document = document_create(
                    name=spec.name,
                    content=spec.content,
                    title=title,
                    stored=stored,
                    region_key=region_key,
                )
                if spec.version_label or spec.version_notes:
                    file_version_describe(document, spec)
                attachment = ItemAttachment(page=page, title=title)
            else:
                document = file_version_add(
                    attachment.document, spec, stored=stored, go_live_at=go_live_at
                )
            attachment.document, attachment.sort_order = document, order
            attachment.master = master
            attachment.master_sha256 = master.document.get_sha256() if master else ""
            if not in_memory:
                attachment.save()
        keep.append(attachment)
    if in_memory:
        page.attachments.set(keep)
        return changed or len(keep) != len(children)
    removed, _ = (
        ItemAttachment.objects.filter(page=page).exclude(pk__in=[a.pk for a in keep]).delete()
    )
    _delete_unused_documents([a.document for a in children], stored)
    return changed or bool(removed)


def file_version_add(
    current: PortalDocument,
    spec: FileSpec,
    *,
    stored: StoredFiles | None = None,
    go_live_at: datetime | None = None,
) -> PortalDocument:
    """Add ``spec``'s bytes as a new version of the file ``current`` is a version of (an
    import's changed file): labelled and described as ``spec`` says, recorded as restoring the
    newest older version with the same bytes if there is one. Not adopted by any item yet.

    Raises:
        UploadRejected: the file was refused; no row and no stored object are left.
    """
    from files.versions import document_version_add

    lineage = current.lineage or current.pk
    same_bytes = (
        PortalDocument.objects.filter(lineage=lineage, sha256=content_sha256(spec.content))
        .order_by("-version_number")
        .first()
    )
    return document_version_add(
        current,
        name=spec.name,
        content=spec.content,
        label=spec.version_label or "",
        notes=spec.version_notes or "",
        go_live_at=go_live_at,
        rollback_of=same_bytes,
        stored=stored,
    )


def file_version_describe(document: PortalDocument, spec: FileSpec) -> None:
    """Set ``spec``'s version label / notes (those it gives) on ``document``, the current
    version of an unchanged file: a relabelling is not a new version."""
    fields = []
    if spec.version_label is not None and spec.version_label != document.version_label:
        document.version_label = spec.version_label
        fields.append("version_label")
    if spec.version_notes is not None and spec.version_notes != document.version_notes:
        document.version_notes = spec.version_notes
        fields.append("version_notes")
    if fields:
        document.save(update_fields=fields)


def _delete_unused_documents(
    documents: list[PortalDocument], stored: StoredFiles | None = None
) -> None:
    """Delete the files that no item uses any more: for each of ``documents``, every version of
    its file (lineage) when no attachment or marketing asset references any of them; a file
    still used anywhere keeps its whole history. Wagtail removes the stored objects on commit
    (post_delete → on_commit), so a rollback never loses a file a row needs; the journal also
    records them, for a process killed between the commit and that removal."""
    from .models import MarketingAssetPage

    seen: set[int] = set()
    for document in documents:
        lineage = document.lineage or document.pk
        if lineage in seen:
            continue
        seen.add(lineage)
        versions = list(PortalDocument.objects.filter(Q(lineage=lineage) | Q(pk=document.pk)))
        pks = [version.pk for version in versions]
        if (
            ItemAttachment.objects.filter(document_id__in=pks).exists()
            or MarketingAssetPage.objects.filter(master_document_id__in=pks).exists()
        ):
            continue
        for version in versions:
            if stored is not None:
                stored.intend(version.file.name)
            version.delete()


# --- downloads ------------------------------------------------------------------------------


@transaction.atomic
def download_record(
    *,
    user,
    item: Page,
    document: PortalDocument | None,
    at: datetime | None = None,
    served_current: bool = False,
) -> DownloadEvent | None:
    """Record that ``user`` downloaded ``document`` (one version of a file) of ``item`` (called
    once the file is served).

    Only partners' downloads are recorded (they feed "updated since you downloaded", the
    withdrawn list, the digest and the statistics); the organisation is copied from the user's
    membership now, so statistics survive membership changes, and the file's key, the version
    number and the title the partner saw are copied, so they survive the version's deletion.
    ``at`` backdates the event (demo history); None is now. ``served_current``: ``document`` is
    the version the item serves now (kb.views.download); the home's cached downloads lists are
    then kept unless this download changes them (kb.home.downloads_news_after_download),
    otherwise they are computed again.

    Returns:
        The DownloadEvent written, or None for a user who is not a partner.
    """
    from .home import downloads_news_after_download, downloads_news_forget

    principal = principal_for(user)
    if principal.kind != "partner":
        return None
    event = DownloadEvent.objects.create(
        user=user,
        organization=principal.organization,
        item_id=item.pk,
        document=document,
        lineage=(document.lineage or document.pk) if document is not None else None,
        version_number=document.version_number if document is not None else None,
        title_seen=item.title[:255],
    )
    if at is not None:
        # downloaded_at is auto_now_add: a given moment is written after the insert.
        DownloadEvent.objects.filter(pk=event.pk).update(downloaded_at=at)
        event.downloaded_at = at
    # Now (this request's own next page), and again after the commit: a home computed
    # meanwhile from the state before it must not be kept.
    if served_current and at is None:
        lineage = event.lineage

        def after() -> None:
            downloads_news_after_download(user=user, item_id=item.pk, lineage=lineage)
    else:
        # A backdated event or another version than the served one may add entries.

        def after() -> None:
            downloads_news_forget(user_id=user.pk)

    after()
    transaction.on_commit(after)
    return event


def download_backfill(
    *, user, item: Page, document_id: int | None, at: datetime
) -> DownloadEvent | None:
    """Set ``user``'s download history of ``item`` to one download of ``document_id`` at ``at``
    (the demo's history): the first call records it like ``download_record``, later calls move
    that one event, so re-running the demo keeps one event per user and item.

    Returns:
        The DownloadEvent, or None for a user who is not a partner.
    """
    event = DownloadEvent.objects.filter(user=user, item_id=item.pk).first()
    if event is None:
        document = PortalDocument.objects.filter(pk=document_id).first() if document_id else None
        return download_record(user=user, item=item, document=document, at=at)
    document = PortalDocument.objects.filter(pk=document_id).first() if document_id else None
    fields = {
        "downloaded_at": at,
        "document_id": document_id,
        "lineage": (document.lineage or document.pk) if document else None,
        "version_number": document.version_number if document else None,
        "title_seen": item.title[:255],
    }
    DownloadEvent.objects.filter(pk=event.pk).update(**fields)
    for name, value in fields.items():
        setattr(event, name, value)
    from .home import downloads_news_forget

    downloads_news_forget(user_id=user.pk)
    transaction.on_commit(lambda: downloads_news_forget(user_id=user.pk))
    return event


# --- localized files ------------------------------------------------------------------------


def _source_of(translation: Page) -> PortalItemPage:
    from .selectors import translation_source

    source = translation_source(translation)
    if source is None:
        raise ValueError(f"page {translation.pk} is not a translation of an item")
    return source


@transaction.atomic
def localized_file_attach(
    *,
    translation: PortalItemPage,
    master: ItemAttachment,
    document: PortalDocument,
    user=None,
    title: str = "",
    publish: bool = False,
):
    """Make ``document`` the localized file of ``master`` on ``translation``, in a new revision.

    The file is part of the translation's next revision (CLARIFICATIONS #6: a localized upload
    goes live with the page revision that carries it, after review): the translation's latest
    revision is taken, its localized file for ``master`` replaced (or added), and saved as a new
    revision; ``publish`` publishes it at once (imports and the demo, which publish). The file
    records the SHA-256 of ``master``'s current file: it is up to date until the master changes.
    Who may do this is asked by the caller (permissions.policies.localization).

    Returns:
        The new Revision.

    Raises:
        ValueError: ``translation`` is not a translation of an item, or ``master`` is not one of
            its source's attachments.
    """
    source = _source_of(translation)
    # The master as it is now (its document may have changed since the caller loaded it).
    master = ItemAttachment.objects.select_related("document").get(pk=master.pk)
    if master.page_id != source.pk or master.master_id is not None:
        raise ValueError(f"attachment {master.pk} is not a file of the source of {translation.pk}")
    sha = master.document.get_sha256()
    draft = translation.specific.get_latest_revision_as_object()
    children = list(draft.attachments.all())
    existing = next((child for child in children if child.master_id == master.pk), None)
    if existing is None:
        children.append(
            ItemAttachment(
                page=draft,
                master=master,
                document=document,
                title=title or master.title,
                master_sha256=sha,
                sort_order=master.sort_order,
            )
        )
    else:
        existing.document, existing.master_sha256 = document, sha
        if title:
            existing.title = title
    draft.attachments.set(children)
    revision = draft.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user)
    return revision


@transaction.atomic
def localized_file_confirm(*, attachment: ItemAttachment, user=None) -> ItemAttachment:
    """Confirm that a localized file still fits its master's current file (no new upload).

    Records the master's current SHA-256 on the published attachment, and on the translation's
    revisions newer than the published one that carry it, so publishing a pending draft does
    not bring the old value back. Not a content change: it needs no review.

    Raises:
        ValueError: ``attachment`` is not a localized file.
    """
    attachment = ItemAttachment.objects.select_related("master__document", "page").get(
        pk=attachment.pk
    )
    if attachment.master is None:
        raise ValueError(f"attachment {attachment.pk} is not a localized file")
    sha = attachment.master.document.get_sha256()
    attachment.master_sha256 = sha
    attachment.save(update_fields=["master_sha256"])

    def patch(content: dict) -> bool:
        touched = False
        for child in content.get("attachments") or []:
            if child.get("pk") == attachment.pk and child.get("master_sha256") != sha:
                child["master_sha256"] = sha
                touched = True
        return touched

    _pending_revisions_patch(attachment.page, patch)
    return attachment


def _pending_revisions_patch(page: Page, patch) -> None:
    """Apply ``patch(content) -> changed`` to ``page``'s revisions newer than its live one, so
    publishing a draft made before a confirmation does not bring the old value back."""
    from wagtail.models import Revision

    revisions = Revision.page_revisions.filter(object_id=str(page.pk))
    if page.live_revision_id is not None:
        revisions = revisions.filter(pk__gt=page.live_revision_id)
    for revision in revisions:
        if patch(revision.content):
            revision.save(update_fields=["content"])


def _asset_field(translation: Page, which: str) -> tuple[PortalItemPage, str]:
    """``translation`` (specific) and the kind ("document" / "image") of its field ``which``."""
    specific = translation.specific
    kind = getattr(specific, "localized_asset_fields", {}).get(which)
    if kind is None:
        raise ValueError(f"{which!r} is not a localizable file of page {translation.pk}")
    return specific, kind


@transaction.atomic
def localized_asset_file_attach(
    *, translation: PortalItemPage, which: str, document_or_image, user=None, publish: bool = False
):
    """Make ``document_or_image`` the localized file of ``translation``'s field ``which``
    (``master_document``, ``master_image``, ``cover_image``), in a new revision.

    Like ``localized_file_attach``: the translation's latest revision gets the file and the
    SHA-256 of the source's current file in that field (``<which>_source_sha256``: up to date
    until the source's file changes), saved as a new draft revision that goes live with review;
    ``publish`` publishes it at once (imports, the demo). Who may do this is asked by the caller
    (permissions.policies.localization).

    Returns:
        The new Revision.

    Raises:
        ValueError: ``translation`` is not a translation of an item, ``which`` is not one of its
            localizable files, the source has no file there, or the file is of the wrong kind.
    """
    specific, kind = _asset_field(translation, which)
    source = _source_of(translation).specific
    master = getattr(source, which, None)
    if master is None:
        raise ValueError(f"the source of {translation.pk} has no {which}")
    if not isinstance(document_or_image, type(master)):
        raise ValueError(f"{which} takes a {kind}")
    draft = specific.get_latest_revision_as_object()
    setattr(draft, which, document_or_image)
    setattr(draft, f"{which}_source_sha256", master.get_sha256())
    revision = draft.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user)
    return revision


@transaction.atomic
def localized_asset_file_confirm(*, translation: PortalItemPage, which: str, user=None) -> None:
    """Confirm that ``translation``'s localized file in field ``which`` still fits the source's
    current file: records its SHA-256 on the page and on pending drafts (as
    ``localized_file_confirm`` does). Not a content change: no review.

    Raises:
        ValueError: ``which`` is not localized on ``translation`` (nothing to confirm).
    """
    specific, _kind = _asset_field(translation, which)
    name = f"{which}_source_sha256"
    if not getattr(specific, name):
        raise ValueError(f"{which} of page {translation.pk} is not localized")
    master = getattr(_source_of(translation).specific, which, None)
    if master is None:
        return
    sha = master.get_sha256()
    setattr(specific, name, sha)
    # A save (not a queryset update): its post_save tells the translation tasks.
    specific.save(clean=False, update_fields=[name])

    def patch(content: dict) -> bool:
        if content.get(name) in (None, "", sha):
            return False
        content[name] = sha
        return True

    _pending_revisions_patch(specific, patch)


# --- file versions --------------------------------------------------------------------------


def item_uses_lineage(page: Page, lineage: int) -> bool:
    """Does ``page``'s latest revision (draft or published) use a version of file ``lineage``
    (as an attachment, or a marketing asset's master)?"""
    draft = Page.objects.get(pk=page.pk).specific.get_latest_revision_as_object()
    if any(
        (att.document.lineage or att.document_id) == lineage
        for att in getattr(draft, "attachments", ItemAttachment.objects.none()).all()
    ):
        return True
    master = getattr(draft, "master_document", None)
    return master is not None and (master.lineage or master.pk) == lineage


def attachment_version_propose(
    *, page: Page, version: PortalDocument, user=None, log_action: bool = True
):
    """Make a new draft revision of ``page`` in which every use of ``version``'s file (its
    attachments of that lineage, a marketing asset's master) points at ``version``.

    Nothing changes for partners: the version goes live when that revision is approved and
    published (CLARIFICATIONS 6; the page's workflow applies as to any change). A version with
    a ``go_live_at`` gives the revision that go-live (Wagtail schedules it on publish).

    Returns:
        The new Revision.

    Raises:
        ValueError: the page uses no version of that file.
    """
    if version.deleted_at is not None:
        raise ValueError(f"v{version.version_number} was deleted")
    lineage = version.lineage or version.pk
    # From a fresh row: the caller's page object must not pick up the draft's children.
    draft = Page.objects.get(pk=page.pk).specific.get_latest_revision_as_object()
    changed = False
    children = list(getattr(draft, "attachments", ItemAttachment.objects.none()).all())
    for child in children:
        if (child.document.lineage or child.document_id) == lineage:
            child.document = version
            changed = True
    if changed:
        draft.attachments.set(children)
    master = getattr(draft, "master_document", None)
    if master is not None and (master.lineage or master.pk) == lineage:
        draft.master_document = version
        changed = True
    if not changed:
        raise ValueError(f"page {page.pk} uses no version of file {lineage}")
    if version.go_live_at is not None:
        draft.go_live_at = version.go_live_at
    return draft.save_revision(user=user, log_action=log_action)


@transaction.atomic
def document_version_delete(version: PortalDocument) -> None:
    """Delete one version of a file (an admin-only action): its row now, its stored object
    (local or S3, in its residency bucket) once the transaction commits.

    Raises:
        ValueError: an item's published state or latest revision still uses this version, a
            revision under review in a workflow or scheduled to go live names it, or it is a
            localized file's recorded master (delete those uses first).
    """
    from files.versions import document_version_delete as delete

    from .models import MarketingAssetPage

    users = set(version.attachments.values_list("page_id", flat=True))
    users |= set(
        MarketingAssetPage.objects.filter(master_document=version).values_list("pk", flat=True)
    )
    if users:
        raise ValueError(
            f"v{version.version_number} is the published version of pages {sorted(users)}"
        )
    lineage = version.lineage or version.pk
    pages = PortalItemPage.objects.filter(
        Q(attachments__document__lineage=lineage)
        | Q(pk__in=MarketingAssetPage.objects.filter(master_document__lineage=lineage).values("pk"))
    ).distinct()
    for page in pages:
        draft = Page.objects.get(pk=page.pk).specific.get_latest_revision_as_object()
        used = [
            att.document_id
            for att in getattr(draft, "attachments", ItemAttachment.objects.none()).all()
        ]
        if version.pk in used or getattr(draft, "master_document_id", None) == version.pk:
            raise ValueError(
                f"v{version.version_number} is proposed in the latest revision of page {page.pk}"
            )
        # Revisions Wagtail will still load as pages: the one a workflow's task reviews (its
        # approval reads it, even when a later draft exists) and one approved to go live later
        # (the scheduler publishes it). A revision naming a deleted version cannot be loaded
        # (ItemAttachment.document is PROTECT), so those would fail.
        for why, revision in _revisions_in_flight(page):
            if _revision_names_document(revision.content, version.pk):
                raise ValueError(
                    f"v{version.version_number} is in a revision of page {page.pk} {why}"
                )
    delete(version)


def _revisions_in_flight(page: Page) -> list[tuple[str, Revision]]:
    """``page``'s revisions under review in an active workflow, and those scheduled to go live."""
    pk = str(page.pk)
    states = WorkflowState.objects.active().filter(
        base_content_type=page.get_base_content_type(), object_id=pk
    )
    reviewed = Revision.page_revisions.filter(
        object_id=pk,
        pk__in=TaskState.objects.filter(workflow_state__in=states).values("revision_id"),
    )
    scheduled = Revision.page_revisions.filter(object_id=pk, approved_go_live_at__isnull=False)
    return [("under review", r) for r in reviewed] + [
        ("scheduled to go live", r) for r in scheduled
    ]


def _revision_names_document(content: dict, pk: int) -> bool:
    """Does a page revision's stored content name document ``pk`` (an attachment's file or a
    marketing asset's master)? Read from the JSON: no page is built from it."""
    if content.get("master_document") == pk:
        return True
    return any(child.get("document") == pk for child in content.get("attachments") or ())


# ============================================================================================
# Product sheet versions (the sheet's changelog)
# ============================================================================================


class VersionLabelUsed(ValueError):
    """The sheet already published a version with this label (labels are never reused)."""


def product_sheet_version_record(
    *,
    page: ProductSheetPage,
    revision: Revision | None = None,
    user=None,
    published_at: datetime | None = None,
    note: str | None = None,
) -> ProductSheetVersion | None:
    """Record the published ``page``'s current version in its history; called on every publish
    (kb.signal_handlers, whatever published it) and by importers and the demo.

    A new entry is written when the page's ``version_label`` differs from the newest entry's
    (``note`` defaults to the page's ``change_note``). The same label again writes nothing,
    except that a changed note corrects the newest entry's note (a typo fixed and republished).
    A blank label records nothing. A translation's first entry starts its history with copies of
    its source's earlier entries (notes in the source's language, no revision): partners of a
    translation see the whole history, and later versions with the translated notes.

    Raises:
        VersionLabelUsed: an older entry of this sheet has the label (the admin form refuses
            it before publishing; an importer should too).
    """
    label = (page.version_label or "").strip()
    if not label:
        return None
    note = page.change_note if note is None else note
    note = note or ""
    with transaction.atomic():
        # Two publishes of one sheet at once must not both decide "new label".
        ProductSheetPage.objects.select_for_update().filter(pk=page.pk).values_list("pk").first()
        history = ProductSheetVersion.objects.filter(page_id=page.pk)
        latest = history.first()  # newest first (Meta.ordering)
        if latest is not None and latest.version_label == label:
            if rich_text_plain(note) and _comparable(note) != _comparable(latest.note):
                latest.note = note
                latest.save(update_fields=["note"])
            return latest
        if history.filter(version_label=label).exists():
            raise VersionLabelUsed(f"{page.title!r} already published version {label!r}")
        if latest is None:
            _version_history_copy_from_source(page, label)
        return ProductSheetVersion.objects.create(
            page_id=page.pk,
            revision=revision,
            version_label=label,
            note=note,
            published_at=published_at or page.last_published_at or timezone.now(),
            published_by=user,
        )


def _version_history_copy_from_source(page: ProductSheetPage, label: str) -> None:
    from .selectors import translation_source

    source = translation_source(page)
    if source is None:
        return
    earlier = ProductSheetVersion.objects.filter(page_id=source.pk).exclude(version_label=label)
    ProductSheetVersion.objects.bulk_create(
        ProductSheetVersion(
            page_id=page.pk,
            version_label=entry.version_label,
            note=entry.note,
            published_at=entry.published_at,
            published_by_id=entry.published_by_id,
        )
        for entry in earlier.iterator()
    )


_TAG = re.compile(r"<[^>]*>")


def rich_text_plain(rich_text: str) -> str:
    """The visible text of a rich text value ("" for an editor's empty paragraph)."""
    return _TAG.sub("", rich_text or "").replace("&nbsp;", " ").strip()
