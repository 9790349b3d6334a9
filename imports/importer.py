"""Applying a validated bundle: ``bundle_import`` upserts tiers, regions, partner types,
organisations, users and items (with their files) in a single all-or-nothing import.

The format is documented in docs/bundle-format.md. ``bundle_import`` first validates the whole
bundle (imports.validation) and only then writes, inside one transaction, and only through
services (permissions.services, kb.services). Files written to storage by an import that fails
are deleted again, so a failed import leaves the database and media storage exactly as they
were; an import journal (files/journal.py) extends that to an import that is killed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from wagtail.models import Page, Site

from files.journal import ImportJournal, Settled
from files.models import PortalDocument
from files.storage import content_sha256
from imports.parsing import SECTIONS, BundleError
from imports.validation import BundlePlan, ItemSpec, bundle_validate
from kb.models import ItemAttachment, ItemKey, LibraryIndexPage, PortalHomePage, PortalItemPage
from kb.placements import item_region_key
from kb.selectors import download_url
from kb.services import (
    Audience,
    StoredFiles,
    document_create,
    file_version_add,
    file_version_describe,
    item_upsert,
    library_for_locale,
    localized_file_attach,
    product_ensure,
    rich_text_plain,
    site_structure_ensure,
)
from localization.selectors import marketer_locales
from localization.services import TranslationError, marketer_set, page_translation_create
from permissions.models import AccessChange, PartnerOrganization, PartnerType, Region, Tier
from permissions.services import (
    Upserted,
    access_change_source,
    audience_recompute_all,
    organization_upsert,
    partner_type_upsert,
    region_upsert,
    tier_upsert,
    user_upsert,
)

logger = logging.getLogger("portal.imports")


@dataclass
class ImportedItem:
    key: str
    page: PortalItemPage
    documents: list[PortalDocument]


@dataclass
class BundleResult:
    """What an import did: per-section counts and the imported items with their files."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    items: dict[str, ImportedItem] = field(default_factory=dict)
    files_stored: int = 0

    def count(self, section: str, *, created: bool) -> None:
        (self.created if created else self.updated)[section] += 1

    def links(self) -> dict:
        """``{"items": {key: {"url", "files", "id", "locale", "file_versions"}}}`` with absolute
        URLs.

        ``id`` is the item's page id, ``locale`` its content language code, ``file_versions``
        one object per entry of ``files`` (same order): ``url``, ``title``, ``version`` (the
        version number the item adopted, an integer) and ``version_label`` (CLARIFICATIONS 11:
        the output only ever gains keys).

        File URLs are the stable download URLs (``kb.selectors.download_url``: the file's
        lineage and first name), so a re-import that adds a version prints the same URL. They
        point at the permission-checked download view, never at raw media.
        """
        root_url = Site.objects.get(is_default_site=True).root_url
        items = {}
        for key, item in self.items.items():
            urls = [root_url + download_url(item.page, doc) for doc in item.documents]
            items[key] = {
                "url": item.page.get_full_url(),
                "files": urls,
                "id": item.page.pk,
                "locale": item.page.locale.language_code,
                "file_versions": [
                    {
                        "url": url,
                        "title": doc.title,
                        "version": doc.version_number,
                        "version_label": doc.version_label,
                    }
                    for url, doc in zip(urls, item.documents, strict=True)
                ],
            }
        return {"items": items}

    def summary(self) -> str:
        lines = []
        for section in SECTIONS:
            created, updated = self.created[section], self.updated[section]
            if created or updated:
                name = section.replace("_", " ")
                lines.append(f"{name}: {created} created, {updated} updated")
        lines.append(f"files stored: {self.files_stored}")
        return "\n".join(lines)


def _structure_present() -> bool:
    if not Site.objects.filter(is_default_site=True).exists():
        return False
    for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:
        try:
            if library_for_locale(code) is None:
                return False
        except PortalHomePage.DoesNotExist:
            return False
    return True


class _Importer:
    def __init__(self, plan: BundlePlan, stored: StoredFiles, progress: Callable[[str], None]):
        self.plan, self.stored, self.progress = plan, stored, progress
        self.result = BundleResult()
        self.tiers: dict[str, Tier] = {}
        self.regions: dict[str, Region] = {}
        self.types: dict[str, PartnerType] = {}
        self.orgs: dict[str, PartnerOrganization] = {}
        # Compiled audiences store tier ranks and read the region tree: when either changes
        # for an existing row, every page's compiled audience must be re-derived.
        self.recompute = False

    def run(self) -> BundleResult:
        if not _structure_present():
            self.progress("creating the portal structure (homes and libraries)")
            site_structure_ensure()
        self._tiers()
        self._regions()
        self._partner_types()
        self._organizations()
        self._users()
        self._items()
        self.result.items = {key: self.result.items[key] for key in self.plan.item_keys}
        if self.recompute:
            self.progress("re-deriving compiled audiences (tier ranks or region tree changed)")
            audience_recompute_all()
        self.result.files_stored = len(self.stored.paths)
        return self.result

    def _upsert(self, service: Callable[..., Upserted], label: str, section: str | None, **fields):
        """Call a tier/region/type service; count the row under ``section`` (None: not again)."""
        try:
            done = service(**fields)
        except ValidationError as exc:
            raise BundleError(f"{label}: {'; '.join(exc.messages)}") from exc
        if section is not None:
            self.result.count(section, created=done.created)
        # Compiled audiences store tier ranks and read the region tree.
        self.recompute = self.recompute or done.audiences_stale
        return done.instance

    def _tiers(self) -> None:
        # Validation made the bundle's ranks unique and kept them clear of every other tier's,
        # so a tier standing in the way is one of the bundle's and is given its own rank later.
        for spec in self.plan.tiers:
            self.tiers[spec.key] = self._upsert(
                tier_upsert,
                spec.label,
                "tiers",
                key=spec.key,
                name=spec.name,
                rank=spec.rank,
                displace=True,
            )

    def _regions(self) -> None:
        # Two rounds: a region's parent may come later in the bundle (or be re-parented).
        for spec in self.plan.regions:
            self.regions[spec.key] = self._upsert(
                region_upsert, spec.label, "regions", key=spec.key, name=spec.name
            )
        for spec in self.plan.regions:
            if spec.parent_given:
                self.regions[spec.key] = self._upsert(
                    region_upsert,
                    spec.label,
                    None,
                    key=spec.key,
                    name=spec.name,
                    parent=self._region(spec.parent) if spec.parent else None,
                )

    def _partner_types(self) -> None:
        for spec in self.plan.partner_types:
            self.types[spec.key] = self._upsert(
                partner_type_upsert, spec.label, "partner_types", key=spec.key, name=spec.name
            )

    def _tier(self, key: str) -> Tier:
        if key not in self.tiers:
            self.tiers[key] = Tier.objects.get(key=key)
        return self.tiers[key]

    def _organizations(self) -> None:
        existing = {
            o.key: o
            for o in PartnerOrganization.objects.filter(
                key__in=[s.key for s in self.plan.organizations]
            )
        }
        for spec in self.plan.organizations:
            current = existing.get(spec.key)
            self.result.count("organizations", created=current is None)
            try:
                org = organization_upsert(
                    key=spec.key,
                    name=spec.name,
                    tier=self._tier(spec.tier),
                    region=self._region(spec.region),
                    partner_type=self._type(spec.partner_type),
                    country=spec.country,
                    # Without "status" a re-import must not re-activate a suspended partner.
                    status=spec.status
                    or (current.status if current else PartnerOrganization.Status.ACTIVE),
                    contact_block=spec.contact_block,
                    contact_name=spec.contact_name,
                    contact_phone=spec.contact_phone,
                    contact_email=spec.contact_email,
                    contact_web=spec.contact_web,
                    primary_color=spec.primary_color,
                    secondary_color=spec.secondary_color,
                )
            except ValidationError as exc:
                raise BundleError(f"{spec.label}: {'; '.join(exc.messages)}") from exc
            self.orgs[spec.key] = org

    def _org(self, key: str) -> PartnerOrganization:
        if key not in self.orgs:
            self.orgs[key] = PartnerOrganization.objects.get(key=key)
        return self.orgs[key]

    def _users(self) -> None:
        User = get_user_model()
        existing = {
            u.email.lower(): u
            for u in User.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=[s.email for s in self.plan.users]
            )
        }
        for spec in self.plan.users:
            current = existing.get(spec.email)
            self.result.count("users", created=current is None)
            # user_upsert overwrites every profile field; keep what the bundle does not mention
            # (a partner may have chosen their own language or time zone since).
            profile = {
                "first_name": current.first_name if current else "",
                "last_name": current.last_name if current else "",
                "preferred_language": current.preferred_language if current else "en",
                "time_zone": current.time_zone if current else "UTC",
                **spec.profile,
            }
            # user_upsert sets a staff user's groups to the role's: a marketer's locales are
            # re-applied afterwards, the bundle's or (when it names none) the ones they had.
            keep_locales = (
                [locale.language_code for locale in marketer_locales(user=current)]
                if current is not None and spec.staff_role == "marketer"
                else []
            )
            try:
                user = user_upsert(
                    email=current.email if current else spec.email,
                    password=spec.password,
                    organization=self._org(spec.organization) if spec.organization else None,
                    role=spec.role,
                    staff_role=spec.staff_role,
                    **profile,
                )
                if spec.staff_role == "marketer":
                    marketer_set(
                        user=user,
                        locales=spec.locales if spec.locales is not None else keep_locales,
                    )
            except (ValidationError, ValueError) as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc
                raise BundleError(f"{spec.label}: {message}") from exc

    def _parent_page(self, spec: ItemSpec) -> Page:
        if spec.parent is not None:
            if spec.parent in self.result.items:
                return self.result.items[spec.parent].page
            return ItemKey.objects.select_related("page").get(key=spec.parent).page.specific
        library = library_for_locale(spec.locale)
        current = ItemKey.objects.filter(key=spec.key).select_related("page").first()
        if current is not None:
            parent = current.page.get_parent().specific
            # An editor may have filed the item in a sub-section of the library: without a
            # "parent" in the bundle, the item stays where it is instead of being pulled back.
            if isinstance(parent, LibraryIndexPage) and parent.locale_id == library.locale_id:
                return parent
        return library

    def _item_page(self, key: str) -> PortalItemPage:
        if key in self.result.items:
            return self.result.items[key].page
        return ItemKey.objects.select_related("page").get(key=key).page.specific

    def _sheet_version(self, spec: ItemSpec) -> dict:
        """The sheet fields ``item_upsert`` sets: a version label (and its note) becomes an entry
        of the sheet's history when it is published (kb.services.product_sheet_version_record),
        under the admin's rules: a new label needs a note, a used one is refused."""
        if spec.version_label is None:
            return {}
        from kb.models import ProductSheetVersion

        history = ProductSheetVersion.objects.filter(page__item_key__key=spec.key)
        latest = history.first()
        if latest is None or latest.version_label != spec.version_label:
            if history.filter(version_label=spec.version_label).exists():
                raise BundleError(
                    f"{spec.label}: version_label: {spec.version_label} was already published "
                    "for this sheet; give the new version a new label"
                )
            if not rich_text_plain(spec.change_note or ""):
                raise BundleError(
                    f"{spec.label}: change_note: say what changed in version {spec.version_label}"
                )
        extra = {"version_label": spec.version_label}
        if spec.change_note is not None:
            extra["change_note"] = spec.change_note
        return extra

    def _translation(self, spec: ItemSpec, audience: Audience) -> PortalItemPage:
        """The translation of the entry's source into its locale, published (CLARIFICATIONS 1)."""
        source = self._item_page(spec.translation_of or "")
        values = {"title": spec.title, "summary": spec.summary, "body": spec.body}
        fields = {name: value for name, value in values.items() if name in spec.given}
        if spec.change_note is not None:  # the translated note of its source's version
            fields["change_note"] = spec.change_note
        if "audience" not in spec.given:
            # No audience of its own: no narrowing, i.e. its source's rule.
            audience = Audience(
                min_tier=source.audience_min_tier,
                regions=list(source.audience_regions.all()),
                partner_types=list(source.audience_partner_types.all()),
                public=source.audience_public,
            )
        page = page_translation_create(
            source=source, locale=spec.locale, fields=fields, audience=audience, publish=True
        )
        ItemKey.objects.get_or_create(key=spec.key, defaults={"page": page})
        self._localized_files(spec, source, page)
        return PortalItemPage.objects.get(pk=page.pk).specific

    def _localized_files(self, spec: ItemSpec, source: PortalItemPage, page) -> None:
        """Each file of a translation entry becomes the localized file of the source's file it
        names (kb.services.localized_file_attach, published); an unchanged file is left alone,
        so it keeps recording the master file it was made for."""
        masters = {
            a.title or a.document.title: a
            for a in source.attachments.filter(master__isnull=True).select_related("document")
        }
        for file in spec.files:
            master = masters[file.localizes]
            current = (
                ItemAttachment.objects.filter(page=page, master=master)
                .select_related("document")
                .first()
            )
            if current is not None and current.document.get_sha256() == content_sha256(
                file.content
            ):
                file_version_describe(current.document, file)
                continue
            if current is not None:
                # Changed bytes: a new version of the localized file (same download URL).
                document = file_version_add(current.document, file, stored=self.stored)
            else:
                document = document_create(
                    name=file.name,
                    content=file.content,
                    title=file.title or file.name,
                    stored=self.stored,
                    region_key=item_region_key(page),
                )
                file_version_describe(document, file)
            localized_file_attach(
                translation=page,
                master=master,
                document=document,
                title=file.title or file.name,
                publish=True,
            )

    def _items(self) -> None:
        for spec in self.plan.items:
            created = not ItemKey.objects.filter(key=spec.key).exists()
            audience = Audience(
                min_tier=self._tier(spec.audience.min_tier) if spec.audience.min_tier else None,
                regions=[self._region(k) for k in spec.audience.regions],
                partner_types=[self._type(k) for k in spec.audience.partner_types],
                public=spec.audience.public,
                grants=[self._org(k) for k in spec.grants],
                exceptions=[self._org(k) for k in spec.exceptions],
            )
            try:
                if spec.translation_of is not None:
                    page = self._translation(spec, audience)
                else:
                    extra = self._sheet_version(spec)
                    page = item_upsert(
                        key=spec.key,
                        kind=spec.kind,
                        title=spec.title,
                        parent=self._parent_page(spec),
                        body=spec.body,
                        summary=spec.summary,
                        product=product_ensure(name=spec.product) if spec.product else None,
                        audience=audience,
                        files=spec.files,
                        tags=spec.tags,
                        go_live_at=spec.go_live_at,
                        expire_at=spec.expire_at,
                        stored=self.stored,
                        extra=extra,
                    )
            except ValidationError as exc:
                raise BundleError(f"{spec.label}: {'; '.join(exc.messages)}") from exc
            except (TranslationError, ValueError, DatabaseError) as exc:
                raise BundleError(f"{spec.label}: {exc}") from exc
            documents = _item_documents(page)
            self.result.items[spec.key] = ImportedItem(spec.key, page, documents)
            self.result.count("items", created=created)
            self.progress(f"{'created' if created else 'updated'} item {spec.key}")

    def _region(self, key: str) -> Region:
        if key not in self.regions:
            self.regions[key] = Region.objects.get(key=key)
        return self.regions[key]

    def _type(self, key: str) -> PartnerType:
        if key not in self.types:
            self.types[key] = PartnerType.objects.get(key=key)
        return self.types[key]


def _item_documents(page: PortalItemPage) -> list[PortalDocument]:
    """The item's files as the import left them: the attachments of its scheduled revision when
    it waits for its go-live, else of its published state (the URLs are the same either way)."""
    revision = page.get_latest_revision()
    if (
        revision is not None
        and revision.approved_go_live_at is not None
        and revision.approved_go_live_at > timezone.now()
        and revision.pk != page.live_revision_id
    ):
        scheduled = revision.as_object()
        return [a.document for a in sorted(scheduled.attachments.all(), key=_sort_order)]
    return [a.document for a in page.attachments.select_related("document").order_by("sort_order")]


def _sort_order(attachment: ItemAttachment) -> int:
    return attachment.sort_order or 0


def bundle_import(
    *,
    data: dict,
    stored: StoredFiles | None = None,
    progress: Callable[[str], None] | None = None,
) -> BundleResult:
    """Validate a parsed bundle completely, then import it in one transaction.

    Tiers, regions, partner types, organisations and users are upserted by key / e-mail; items
    by ``key`` through ``kb.services.item_upsert`` (which publishes). All or nothing: if anything
    fails, the transaction rolls back and every file this import wrote to storage is deleted.

    Every storage name the import writes (and every file it replaces) is first recorded in an
    import journal (files.journal): when the import ends, however it ends, the names no row
    references are deleted; if the process is killed, ``files.journal.journal_recover`` (the next
    import_bundle, storage_orphans) does the same.

    Parameters:
        data: the parsed bundle (see ``bundle_parse`` and docs/bundle-format.md).
        stored: if given, the storage paths written by a successful import are added to it, for
            a caller whose own surrounding transaction may still fail.
        progress: called with one line per step (the command sends these to stderr).

    Raises:
        BundleError: the bundle is invalid, or an entry failed to import.
    """
    say = progress or (lambda line: None)
    journal = ImportJournal.open()
    own = StoredFiles(journal=journal)
    # Not @transaction.atomic: the files must also be settled when the commit itself fails,
    # which happens when the atomic block exits, so the try has to enclose it.
    committed: list[bool] = []
    try:
        with transaction.atomic(), access_change_source(source=AccessChange.Source.IMPORT):
            transaction.on_commit(lambda: committed.append(True))  # runs first after COMMIT
            # Validation runs inside the transaction so the references it checked cannot
            # change before the writes that rely on them (select-for-update is not needed:
            # a concurrent import would fail on the unique keys and roll back).
            plan = bundle_validate(data=data)
            result = _Importer(plan, own, say).run()
    except BaseException as exc:
        # Also after the commit (a signal during the on-commit work): the rule keeps what rows
        # reference, so a committed import never loses a file here.
        # Read by the import_bundle command (what was rolled back, and its stored files).
        settled = exc.settled = _settle(journal)  # type: ignore[attr-defined]
        # A new file that is still referenced proves the commit (the flag may miss it by a
        # few instructions when the signal lands right after COMMIT).
        exc.import_committed = bool(committed) or bool(  # type: ignore[attr-defined]
            settled and set(own.paths) & set(settled.kept)
        )
        raise
    _settle(journal)
    if stored is not None:
        stored.paths.extend(own.paths)
    return result


def _settle(journal: ImportJournal) -> Settled | None:
    """Settle the import's journal; on a database error retry once on a fresh connection, then
    leave the journal to ``journal_recover`` (nothing is deleted unchecked)."""
    for attempt in (1, 2):
        try:
            return journal.settle()
        except DatabaseError:
            if attempt == 2 or connection.in_atomic_block:
                logger.exception("import journal %s left for recovery", journal.path.name)
                journal.abandon()
                return None
            connection.close()  # a broken connection (killed mid-query) is replaced
    return None
