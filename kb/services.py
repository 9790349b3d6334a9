"""Writes of content: the admin, import_bundle, seed_demo and benchmarks all come through here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.utils import validate_file_name
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from wagtail import hooks
from wagtail.blocks import StreamValue
from wagtail.models import Locale, Page, Site

from files.models import PortalDocument, PortalImage
from files.storage import content_sha256, join_name
from files.validation import validate_upload
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

    from wagtail.models import Revision

    from files.journal import ImportJournal


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


@dataclass
class StoredFiles:
    """Storage paths written during an operation, so a failed transaction can remove them.

    With a ``journal`` (files.journal.ImportJournal) every name is made durable *before* the
    storage is touched, and names that a row stops referencing are recorded too, so a process
    killed at any point leaves nothing the journal's recovery cannot settle.
    """

    paths: list[str] = field(default_factory=list)
    journal: ImportJournal | None = None

    def intend(self, name: str) -> None:
        """Record ``name`` before it is written, or before a row stops referencing it."""
        if self.journal is not None:
            self.journal.record(name)

    def discard(self) -> None:
        from django.core.files.storage import default_storage

        for path in self.paths:
            default_storage.delete(path)
        self.paths.clear()


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
    return _file_row_create(
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
    return _file_row_create(
        PortalImage, "image", name=name, content=content, title=title, region_key=region_key
    )


def _file_row_create(model, kind: str, *, name, content, title, region_key, stored=None):
    name = validate_upload(name=name, content=content, kind=kind)
    row = model(title=title or name)
    field = row.file.field
    target = join_name(region_key, field.generate_filename(row, name))
    row.file.name = _save_file(
        field.storage, target, ContentFile(content, name=name), field.max_length, stored
    )
    if stored is not None:
        stored.paths.append(row.file.name)
    row.file_size = len(content)
    row.file_hash = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    row.sha256 = content_sha256(content)
    if kind == "image":
        # Width and height from the stored bytes, as Wagtail's own upload sets them.
        from django.core.files.images import get_image_dimensions

        row.width, row.height = get_image_dimensions(ContentFile(content))
    try:
        row.save()
    except BaseException:
        # No row points at the object: remove it now rather than leave an orphan.
        row.file.storage.delete(row.file.name)
        raise
    return row


def _save_file(storage, target: str, content, max_length: int, stored: StoredFiles | None) -> str:
    """``storage.save`` with the chosen name journaled between choosing it and writing it."""
    if stored is None or stored.journal is None:
        return storage.save(target, content, max_length=max_length)
    # Storage.save() would pick the name and write in one call; the journal must come between.
    validate_file_name(target, allow_relative_path=True)
    name = storage.get_available_name(target, max_length=max_length)
    validate_file_name(name, allow_relative_path=True)
    stored.intend(name)
    saved = storage._save(name, content)
    if saved != name:  # the local store found the name taken meanwhile and chose another
        stored.intend(saved)
    validate_file_name(saved, allow_relative_path=True)
    return saved


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
    publish: bool = True,
    stored: StoredFiles | None = None,
    user=None,
) -> PortalItemPage:
    """Create or update the item with external ``key`` under ``parent`` and publish it.

    ``tags`` replaces the item's tags (normalised with ``tag_normalise``, repeats dropped);
    ``None`` leaves an existing item's tags as they are. Tags are saved with the page and its
    revision, so they reach the search index only when the revision is published.

    Raises:
        ValueError: unknown ``kind``, a bad tag, or an existing item with this key is of another
            kind.
    """
    model = MODEL_BY_CONTENT_KIND.get(kind)
    if model is None:
        raise ValueError(f"unknown kind {kind!r}")
    wanted_tags = None if tags is None else list(dict.fromkeys(tag_normalise(t) for t in tags))
    audience = audience or Audience()
    existing = ItemKey.objects.filter(key=key).select_related("page").first()
    before = None
    if existing is not None:
        page = existing.page.specific
        if not isinstance(page, model):
            raise ValueError(
                f"item {key!r} exists as another kind ({page.specific_class.__name__})"
            )
        if page.locale_id != parent.locale_id:
            raise ValueError(f"item {key!r} cannot move into another locale's tree")
        before = _content_state(page, extra)
        if page.get_parent().pk != parent.pk:
            before = None  # a move is a change
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
    page.title = title
    page.summary = summary
    page.body = body
    page.product = product
    for name, value in (extra or {}).items():
        setattr(page, name, value)
    _audience_assign(page, audience)
    if wanted_tags is not None and sorted(wanted_tags) != sorted_tag_names(page):
        page.tags.set(wanted_tags)  # in memory (modelcluster); saved with the page below
    # A re-import of what is already live changes nothing: no revision, no publish (which would
    # move last_published_at and tell every partner who downloaded the item that it changed).
    unchanged = (
        before is not None
        and before == _content_state(page, extra)
        and not page.has_unpublished_changes
        and (page.live or not publish)
    )
    if existing is None:
        page.slug = _unique_slug(parent, title)
        parent.add_child(instance=page)
        ItemKey.objects.create(key=key, page=page)
    elif not unchanged:
        page.save()
    files_changed = _sync_attachments(page, list(files), stored)
    if not unchanged or files_changed:  # (files only: the page row is already as it should be)
        revision = page.save_revision(user=user, log_action=True)
        if publish:
            revision.publish(user=user)
            page.refresh_from_db()
    return page


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
    page: PortalItemPage, files: list[FileSpec], stored: StoredFiles | None
) -> bool:
    """Make the item's attachments ``files``; True when anything changed.

    A spec with ``localizes`` (on a translation) becomes the localized file of the source's
    attachment with that title, recorded as translating the master's current file when the
    file or its master is new (an unchanged re-import keeps what it translates).

    Raises:
        ValueError: ``localizes`` on a page that is no translation, or no such source file.
    """
    current = {a.document.title: a for a in page.attachments.select_related("document")}
    changed = False
    region_key = item_region_key(page)
    keep = set()
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
        digest = hashlib.sha1(spec.content, usedforsecurity=False).hexdigest()
        title = spec.title or spec.name
        attachment = current.get(title)
        if attachment is not None and attachment.document.file_hash == digest:
            if attachment.master_id != (master.pk if master else None):
                attachment.master = master
                attachment.master_sha256 = master.document.get_sha256() if master else ""
                attachment.save(update_fields=["master", "master_sha256"])
                changed = True
            if attachment.sort_order != order:
                attachment.sort_order = order
                attachment.save(update_fields=["sort_order"])
                changed = True
        else:
            changed = True
            document = document_create(
                name=spec.name,
                content=spec.content,
                title=title,
                stored=stored,
                region_key=region_key,
            )
            if attachment is None:
                attachment = ItemAttachment(page=page, title=title)
            attachment.document, attachment.sort_order = document, order
            attachment.master = master
            attachment.master_sha256 = master.document.get_sha256() if master else ""
            attachment.save()
        keep.add(attachment.pk)
    removed, _ = ItemAttachment.objects.filter(page=page).exclude(pk__in=keep).delete()
    _delete_unused_documents([a.document for a in current.values()], stored)
    return changed or bool(removed)


def _delete_unused_documents(
    documents: list[PortalDocument], stored: StoredFiles | None = None
) -> None:
    """Delete documents that no attachment or asset references any more. Wagtail removes the
    file on commit (post_delete → on_commit), so a rollback never loses a file a row needs; the
    journal also records it, for a process killed between the commit and that removal."""
    for document in documents:
        if not document.attachments.exists() and not document.master_of.exists():
            if stored is not None:
                stored.intend(document.file.name)
            document.delete()


# --- downloads ------------------------------------------------------------------------------


@transaction.atomic
def download_record(
    *, user, item: Page, document: PortalDocument | None, at: datetime | None = None
) -> DownloadEvent | None:
    """Record that ``user`` downloaded ``document`` of ``item`` (called once the file is served).

    Only partners' downloads are recorded (they feed "updated since you downloaded" and the
    statistics); the organisation is copied from the user's membership now, so statistics
    survive membership changes. ``at`` backdates the event (demo history); None is now.

    Returns:
        The DownloadEvent written, or None for a user who is not a partner.
    """
    principal = principal_for(user)
    if principal.kind != "partner":
        return None
    event = DownloadEvent.objects.create(
        user=user, organization=principal.organization, item_id=item.pk, document=document
    )
    if at is not None:
        # downloaded_at is auto_now_add: a given moment is written after the insert.
        DownloadEvent.objects.filter(pk=event.pk).update(downloaded_at=at)
        event.downloaded_at = at
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
    DownloadEvent.objects.filter(pk=event.pk).update(downloaded_at=at, document_id=document_id)
    event.downloaded_at, event.document_id = at, document_id
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
