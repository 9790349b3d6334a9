"""Builds the demo world of *Altivo Networks*' partner portal (``manage.py seed_demo``).

The data (taxonomy, organisations, logins, sections, items with their texts, downloads) lives in
demo/data/*.json and is read into specs by ``demo.loader``; this module writes it. Everything is
written through the services (``permissions.services``, ``kb.services``) so the demo behaves
exactly like content created in the admin or imported from a bundle. The data is chosen so that
every journey of docs/demo.md can be shown and every audience rule is exercised at least
once: minimum tier, regions (with DACH under EMEA), partner types, a grant, an exception,
inheritance (child items and a tier-restricted section), a public item, and content in en/de/cs.

``demo_seed()`` is idempotent: organisations, users and items are upserted by key, sections are
looked up by slug, images and documents by title + content hash (the generators in
``demo.assets`` are deterministic), so a second run changes nothing that can be counted.
docs/demo.md documents the result; demo/tests/test_seed_demo.py checks it, including what each demo
login may and may not see.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import TextIO

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page

from accounts.services import user_digest_frequency_set
from branding.services import brand_update
from demo.assets import make_logo, make_pdf, make_product_image
from demo.loader import (
    ANYONE_SIGNED_IN,
    APPROVER_EMAIL,
    EDITOR_EMAIL,
    MA,
    DemoDataError,
    Doc,
    ItemSpec,
    OrgSpec,
    SectionSpec,
    html,
    load_demo,
)
from files.models import PortalDocument, PortalImage
from files.storage import content_sha256
from files.versions import document_version_add, document_versions
from kb.models import (
    ItemAttachment,
    ItemKey,
    LibraryIndexPage,
    PortalItemPage,
    ProductSheetPage,
    ProductSheetVersion,
)
from kb.richtext import rich_text_as_editor_stores
from kb.services import (
    Audience,
    FileSpec,
    StoredFiles,
    attachment_version_propose,
    document_create,
    download_backfill,
    item_upsert,
    library_for_locale,
    localized_file_attach,
    product_ensure,
    section_upsert,
    site_structure_ensure,
)
from localization.services import (
    coverage_snapshot_record,
    marketer_set,
    page_translation_create,
    translation_tasks_refresh,
)
from permissions.models import (
    AccessChange,
    Membership,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from permissions.services import (
    access_change_source,
    organization_set_logo,
    organization_upsert,
    partner_type_upsert,
    region_upsert,
    tier_upsert,
    user_upsert,
)


def _change_note(note: str | None) -> str:
    """A product sheet's "what changed" note as its editor stores it (its own features)."""
    features = ProductSheetPage._meta.get_field("change_note").features
    return rich_text_as_editor_stores(note or "", features)


# The data lives in demo/data/*.json (see demo.loader); these names are what the seeding below
# (and the tests) use.
_DEMO = load_demo()
TIERS = _DEMO.taxonomy.tiers
REGIONS = _DEMO.taxonomy.regions
PARTNER_TYPES = _DEMO.taxonomy.partner_types
ORGANIZATIONS = _DEMO.organizations
USERS = _DEMO.users
SECTIONS = _DEMO.sections
ITEMS = _DEMO.items
ITEM_TAGS = _DEMO.item_tags
#: Downloads recorded for Anna so "Updated since you downloaded" and "Withdrawn" have content:
#: (user e-mail, item key, attachment language or None for the master, days ago).
DOWNLOADS = _DEMO.downloads
#: (item key, layout JSON): co-brand templates of PDF masters (demo/data/cobrand_templates.json).
COBRAND_TEMPLATES = _DEMO.cobrand_templates

# ============================================================================================
# Seeding
# ============================================================================================


@dataclass
class LoginRow:
    email: str
    password: str
    name: str
    organization: str
    tier: str
    region: str
    partner_type: str
    role: str
    language: str
    time_zone: str
    visible_items: int


@dataclass
class DemoSummary:
    organizations: int = 0
    suspended: list[str] = field(default_factory=list)
    users: int = 0
    sections: int = 0
    items_by_kind: dict[str, int] = field(default_factory=dict)
    items_by_locale: dict[str, int] = field(default_factory=dict)
    items_created: int = 0
    items_updated: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    images: int = 0
    documents: int = 0
    logins: list[LoginRow] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def items(self) -> int:
        return sum(self.items_by_kind.values())


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


class _Seeder:
    def __init__(self, stdout: TextIO | None) -> None:
        self.stdout = stdout
        self.stored = StoredFiles()
        self.now = timezone.now()
        self.tiers: dict[str, Tier] = {}
        self.regions: dict[str, Region] = {}
        self.types: dict[str, PartnerType] = {}
        self.orgs: dict[str, PartnerOrganization] = {}
        self.users: dict[str, object] = {}
        self.sections: dict[str, LibraryIndexPage] = {}
        self.pages: dict[str, PortalItemPage] = {}
        self.image_ids: set[int] = set()
        self.document_ids: set[int] = set()
        self.summary = DemoSummary()

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message + "\n")

    # -- taxonomy, organisations, users -----------------------------------------------------
    def taxonomy(self) -> None:
        for key, name, rank in TIERS:
            self.tiers[key] = tier_upsert(key=key, name=name, rank=rank).instance
        for key, name, parent in REGIONS:
            self.regions[key] = region_upsert(
                key=key, name=name, parent=self.regions.get(parent)
            ).instance
        for key, name in PARTNER_TYPES:
            self.types[key] = partner_type_upsert(key=key, name=name).instance

    def organizations(self) -> None:
        for spec in ORGANIZATIONS:
            org = organization_upsert(
                key=spec.key,
                name=spec.name,
                tier=self.tiers[spec.tier],
                region=self.regions[spec.region],
                partner_type=self.types[spec.partner_type],
                country=spec.country,
                status=spec.status,
                contact_block=spec.contact_block,
                contact_name=spec.contact_name,
                contact_phone=spec.contact_phone,
                contact_email=spec.contact_email,
                contact_web=spec.contact_web,
                primary_color=spec.primary_color,
                secondary_color="#ffffff",
            )
            self._logo(org, spec)
            self.orgs[spec.key] = org
        self.summary.organizations = len(self.orgs)
        self.summary.suspended = [o.name for o in self.orgs.values() if not o.is_active]
        self.say(f"  {len(self.orgs)} organisations")

    def _logo(self, org: PartnerOrganization, spec: OrgSpec) -> None:
        # The demo stores a generated PNG once and keeps it while it is unchanged.
        data = make_logo(spec.name, color=spec.primary_color)
        if org.logo:
            try:
                with org.logo.open("rb") as current:
                    if _sha1(current.read()) == _sha1(data):
                        return
            except OSError:
                pass
        organization_set_logo(
            organization=org, name=f"{spec.key}-logo.png", content=data, stored=self.stored
        )

    def logins(self) -> None:
        for spec in USERS:
            user = user_upsert(
                email=spec.email,
                password=spec.password,
                first_name=spec.first_name,
                last_name=spec.last_name,
                preferred_language=spec.language,
                time_zone=spec.time_zone,
                organization=self.orgs[spec.organization] if spec.organization else None,
                role=spec.role,
                staff_role=spec.staff_role,
            )
            if spec.superuser and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            if spec.digest:
                user_digest_frequency_set(user=user, frequency=spec.digest)
            self.users[spec.email] = user
        self.summary.users = len(self.users)
        self.say(f"  {len(self.users)} users")

    def marketers(self) -> None:
        """Regional marketers' locales (after the structure: their groups hold page permissions
        on their locale's home). user_upsert reset their groups to the role's."""
        for spec in USERS:
            if spec.staff_role == "marketer" and spec.locales:
                marketer_set(user=self.users[spec.email], locales=spec.locales)

    # -- library ----------------------------------------------------------------------------
    def structure(self) -> None:
        site_structure_ensure()
        library = library_for_locale("en")
        if not library.audience_public:
            # A public item is visible without login only if every section above it is public
            # too (audiences only narrow down the tree), so the English library itself must be
            # public. It adds no restriction for partners; its non-public sections still need a
            # login.
            library.audience_public = True
            library.save_revision().publish()
        for spec in SECTIONS:
            self.sections[spec.slug] = self._section(library, spec)
            for language, title in spec.translations:
                # The translated items below it need the section in their language's library.
                page_translation_create(
                    source=self.sections[spec.slug],
                    locale=language,
                    fields={"title": title},
                    publish=True,
                )
        self.summary.sections = len(self.sections)
        self.say(f"  {len(self.sections)} library sections")

    def brand(self) -> None:
        """The portal's brand (demo/data/brand.json; issue #14): name, colours, footer links."""
        spec = json.loads((Path(__file__).parent / "data" / "brand.json").read_text("utf-8"))
        brand_update(**spec["brand"])
        self.say(f"  brand: {spec['brand']['portal_name']}")

    def _section(self, parent: LibraryIndexPage, spec: SectionSpec) -> LibraryIndexPage:
        rule = spec.rule
        return section_upsert(
            parent=parent,
            slug=spec.slug,
            title=spec.title,
            intro=rich_text_as_editor_stores(html(spec.intro)),
            audience=Audience(
                min_tier=self.tiers[rule.min_tier] if rule.min_tier else None,
                regions=[self.regions[k] for k in rule.regions],
                partner_types=[self.types[k] for k in rule.types],
                public=rule.public,
            ),
        )

    def _parent(self, ref: str):
        kind, _, name = ref.partition(":")
        if kind == "section":
            return self.sections[name]
        if kind == "item":
            return self.pages[name]
        if kind == "library":
            return library_for_locale(name)
        raise ValueError(f"unknown parent reference {ref!r}")

    def _image(self, *, title: str, data: bytes, filename: str) -> PortalImage:
        digest = _sha1(data)
        image = PortalImage.objects.filter(title=title, file_hash=digest).first()
        if image is None:
            image = PortalImage(
                title=title,
                file=ImageFile(BytesIO(data), name=filename),
                file_size=len(data),
                file_hash=digest,
            )
            image.save()
            self.stored.paths.append(image.file.name)
        self.image_ids.add(image.pk)
        return image

    def _pdf(self, spec: ItemSpec, doc: Doc) -> bytes:
        return make_pdf(
            doc.title,
            subtitle=doc.subtitle,
            pages=doc.pages,
            accent=spec.color,
            language=doc.language,
        )

    def _document(self, *, title: str, filename: str, data: bytes) -> PortalDocument:
        document = PortalDocument.objects.filter(title=title, file_hash=_sha1(data)).first()
        if document is None:
            document = document_create(name=filename, content=data, title=title, stored=self.stored)
        self.document_ids.add(document.pk)
        return document

    def _content(self, spec: ItemSpec) -> dict:
        """An item's fields besides its texts: cover image, guide/sheet fields, asset files."""
        slug = spec.key.removeprefix("demo-")
        cover = self._image(
            title=f"{spec.title} (cover)",
            data=make_product_image(
                spec.title, subtitle=spec.product or "Altivo Partner Programme", color=spec.color
            ),
            filename=f"{slug}-cover.jpg",
        )
        extra = {**spec.extra, "cover_image": cover}
        if extra.get("change_note"):
            extra["change_note"] = _change_note(extra["change_note"])
        if spec.kind == MA:
            master_document = master_image = None
            if spec.master is not None:
                master_document = self._versioned(spec, spec.master, None) or self._document(
                    title=spec.master.title,
                    filename=f"{slug}.pdf",
                    data=self._pdf(spec, spec.master),
                )
            if spec.master_image_size is not None:
                master_image = self._image(
                    title=spec.title,
                    data=make_product_image(
                        spec.title,
                        subtitle=spec.summary.split(".")[0][:80],
                        color=spec.color,
                        size=spec.master_image_size,
                        fmt="PNG",
                    ),
                    filename=f"{slug}.png",
                )
            extra.update(
                asset_kind=spec.asset_kind,
                master_document=master_document,
                master_image=master_image,
                co_brandable=spec.co_brandable,
            )
        return extra

    def item(self, spec: ItemSpec) -> PortalItemPage:
        if spec.translation_of is not None:
            return self.translation(spec)
        slug = spec.key.removeprefix("demo-")
        extra = self._content(spec)
        files = []
        for index, doc in enumerate(spec.attachments):
            current = self._versioned(spec, doc, index)
            # A file that already has its later versions keeps its current one on a re-run
            # (the same bytes: no new version); otherwise the demo's first version.
            data = current.file.open("rb").read() if current else self._pdf(spec, doc)
            files.append(
                FileSpec(
                    name=f"{slug}-{doc.language}.pdf",
                    content=data,
                    language=doc.language,
                    title=f"{doc.title} ({doc.language.upper()})",
                )
            )
        existed = ItemKey.objects.filter(key=spec.key).exists()
        # A new sheet is published once per version, oldest first, so its history (and the
        # revisions staff compare) has them all; a second run finds it and changes nothing.
        earlier = [] if existed else list(reversed(spec.versions[1:]))
        for label, note in [*earlier, (None, None)]:
            version = (
                {} if label is None else {"version_label": label, "change_note": _change_note(note)}
            )
            page = self._upsert(spec, extra={**extra, **version}, files=files)
        if spec.versions:
            self._sheet_history_backdate(spec, page)
        self._versions(spec, page)
        if spec.withdrawn:
            page.unpublish()
        return self._built(spec, page, existed=bool(existed))

    def _upsert(self, spec: ItemSpec, *, extra: dict, files: list[FileSpec]) -> PortalItemPage:
        rule = spec.rule
        return item_upsert(
            key=spec.key,
            kind=spec.kind,
            title=spec.title,
            parent=self._parent(spec.parent),
            body=rich_text_as_editor_stores(spec.body),
            summary=spec.summary,
            product=product_ensure(name=spec.product) if spec.product else None,
            audience=Audience(
                min_tier=self.tiers[rule.min_tier] if rule.min_tier else None,
                regions=[self.regions[k] for k in rule.regions],
                partner_types=[self.types[k] for k in rule.types],
                public=rule.public,
                grants=[self.orgs[k] for k in rule.grants],
                exceptions=[self.orgs[k] for k in rule.exceptions],
            ),
            files=files,
            extra=extra,
            tags=ITEM_TAGS.get(spec.key, ()),
            stored=self.stored,
        )

    def _sheet_history_backdate(self, spec: ItemSpec, page: PortalItemPage) -> None:
        """Spread the sheet's versions from its first publication (the oldest) to its last
        update (the newest), like the pages' own dates (``history``)."""
        first = spec.published_days_ago
        last = first if spec.updated_days_ago is None else spec.updated_days_ago
        labels = [label for label, _note in reversed(spec.versions)]  # oldest first
        for n, label in enumerate(labels):
            days = first if len(labels) == 1 else first - (first - last) * n // (len(labels) - 1)
            ProductSheetVersion.objects.filter(page_id=page.pk, version_label=label).update(
                published_at=self._days_ago(days, f"{spec.key}:{label}")
            )

    def _versioned(self, spec: ItemSpec, doc: Doc, index: int | None) -> PortalDocument | None:
        """On a re-run: the current version of a demo file that already has its later versions
        (the master for ``index`` None, else the ``index``-th attachment), so the item keeps it."""
        if not doc.versions:
            return None
        key = ItemKey.objects.filter(key=spec.key).select_related("page").first()
        if key is None:
            return None
        page = key.page.specific
        if index is None:
            current = getattr(page, "master_document", None)
        else:
            attachments = list(page.attachments.select_related("document").order_by("sort_order"))
            current = attachments[index].document if index < len(attachments) else None
        if current is None or document_versions(current.lineage).count() < 2:
            return None
        self.document_ids.add(current.pk)
        return current

    def _versions(self, spec: ItemSpec, page: PortalItemPage) -> None:
        """Later versions of the item's files (docs/file-versions.md): each published through a
        revision that adopts it, back-dated; a pending one submitted to the item's workflow by
        the demo editor, so the admin shows "live v2, pending v3". Idempotent: a file that
        already has its versions gets none."""
        specific = page.specific
        files: list[tuple[Doc, PortalDocument]] = []
        if spec.master is not None and getattr(specific, "master_document", None) is not None:
            files.append((spec.master, specific.master_document))
        attachments = list(specific.attachments.select_related("document"))
        for doc, attachment in zip(spec.attachments, attachments, strict=False):
            files.append((doc, attachment.document))
        for doc, current in files:
            if not doc.versions:
                continue
            lineage = current.lineage or current.pk
            if document_versions(lineage).count() > 1:
                # Already versioned (a re-run): the pending version goes back to review if the
                # re-run's publish ended its workflow.
                newest = document_versions(lineage).first()
                page.refresh_from_db()
                if doc.versions[-1].pending and not page.workflow_in_progress and newest:
                    attachment_version_propose(
                        page=page, version=newest, user=self.users.get(EDITOR_EMAIL)
                    )
                    self._submit(page, self.users[EDITOR_EMAIL])
                continue
            # The first version is as old as the item.
            PortalDocument.objects.filter(pk=current.pk, version_number=1).update(
                created_at=self._days_ago(spec.published_days_ago, spec.key)
            )
            for number, version in enumerate(doc.versions, start=2):
                data = self._pdf(spec, replace(doc, subtitle=f"{doc.title} {version.label}"))
                new = document_version_add(
                    current,
                    name=current.filename,
                    content=data,
                    label=version.label,
                    notes=version.notes,
                    user=self.users.get(EDITOR_EMAIL),
                    stored=self.stored,
                )
                self.document_ids.add(new.pk)
                PortalDocument.objects.filter(pk=new.pk).update(
                    created_at=self._days_ago(version.days_ago, f"{spec.key}:v{number}")
                )
                revision = attachment_version_propose(
                    page=page, version=new, user=self.users.get(EDITOR_EMAIL)
                )
                if version.pending:
                    self._submit(page, self.users[EDITOR_EMAIL])
                else:
                    revision.publish(user=self.users.get(APPROVER_EMAIL))

    def translation(self, spec: ItemSpec) -> PortalItemPage:
        """A real wagtail-localize translation of an English item (page_translation_create),
        with its own texts, tags and files; left in review when ``in_review_by`` says so."""
        existed = ItemKey.objects.filter(key=spec.key).select_related("page").first()
        if existed is not None and spec.in_review_by:
            page = existed.page.specific
            if page.workflow_in_progress:  # a second run leaves the submission as it is
                self.summary.items_updated += 1
                self.pages[spec.key] = page
                return page
        rule = spec.rule
        page = page_translation_create(
            source=self.pages[spec.translation_of],
            locale=spec.locale,
            fields={
                "title": spec.title,
                "summary": spec.summary,
                "body": rich_text_as_editor_stores(spec.body),
                "tags": ITEM_TAGS.get(spec.key, ()),
                **self._content(spec),
                **(
                    {"change_note": _change_note(spec.change_note)}
                    if spec.change_note is not None
                    else {}
                ),
            },
            # Its own rule narrows the source's; none given: the source's (no narrowing).
            audience=None
            if rule == ANYONE_SIGNED_IN
            else Audience(
                min_tier=self.tiers[rule.min_tier] if rule.min_tier else None,
                regions=[self.regions[k] for k in rule.regions],
                partner_types=[self.types[k] for k in rule.types],
                public=rule.public,
            ),
            publish=spec.in_review_by is None,
        ).specific
        ItemKey.objects.get_or_create(key=spec.key, defaults={"page": page})
        self._localized_files(spec, page)
        if spec.in_review_by:
            self._submit(page, self.users[spec.in_review_by])
        return self._built(spec, page, existed=bool(existed))

    def _built(self, spec: ItemSpec, page: PortalItemPage, *, existed: bool) -> PortalItemPage:
        """Count ``page`` (a source or a translation) and remember it and its files."""
        if existed:
            self.summary.items_updated += 1
        else:
            self.summary.items_created += 1
        self.document_ids.update(page.attachments.values_list("document_id", flat=True))
        self.pages[spec.key] = page
        return page

    def _localized_files(self, spec: ItemSpec, page: PortalItemPage) -> None:
        """The translation's localized files (kb.services.localized_file_attach), each linked to
        the source's attachment it replaces; ``out_of_date`` ones were made for that master's
        previous file (the demo's history, like the backdated downloads)."""
        source_spec = next(i for i in ITEMS if i.key == spec.translation_of)
        source = self.pages[spec.translation_of]
        slug = spec.key.removeprefix("demo-")
        for doc in spec.attachments:
            master_doc = next(d for d in source_spec.attachments if d.title == doc.localizes)
            master = source.attachments.select_related("document").get(
                title=f"{master_doc.title} ({master_doc.language.upper()})"
            )
            data = self._pdf(spec, doc)
            title = f"{doc.title} ({doc.language.upper()})"
            current = (
                ItemAttachment.objects.filter(page=page, master=master)
                .select_related("document")
                .first()
            )
            if current is None or current.document.file_hash != _sha1(data):
                document = self._document(
                    title=title, filename=f"{slug}-{doc.language}.pdf", data=data
                )
                localized_file_attach(
                    translation=page,
                    master=master,
                    document=document,
                    title=title,
                    publish=page.live,
                )
                current = ItemAttachment.objects.get(page=page, master=master)
            self.document_ids.add(current.document_id)
            if doc.out_of_date:
                earlier = replace(master_doc, subtitle=f"{master_doc.subtitle} (previous edition)")
                previous = content_sha256(self._pdf(source_spec, earlier))
                _localized_file_backdate(current, sha256=previous)

    def _submit(self, page: PortalItemPage, user) -> None:
        """Submit ``page`` to its tree's workflow as ``user`` (a marketer: "Submit for review")."""
        if page.workflow_in_progress:
            return
        workflow = page.get_workflow()
        if workflow is None:
            raise DemoDataError(f"{page.title}: no workflow on the {page.locale} tree to submit to")
        workflow.start(page, user)

    def items(self) -> None:
        for spec in ITEMS:
            self.item(spec)
        self.say(
            f"  {len(self.pages)} items ({self.summary.items_created} created, "
            f"{self.summary.items_updated} updated)"
        )

    def cobrand_templates(self) -> None:
        """Each listed item's PDF master (its lineage: every version) gets its template; a
        re-run with the same layout adds no template version."""
        from cobranding import engine
        from cobranding.models import CobrandTemplate
        from cobranding.services import template_save

        for key, data in COBRAND_TEMPLATES:
            master = getattr(self.pages[key].specific, "master_document", None)
            if master is None:
                raise DemoDataError(f"cobrand_templates: {key} has no master document")
            lineage = master.lineage or master.pk
            layout = engine.layout_from_json(data)
            current = CobrandTemplate.objects.filter(lineage=lineage).first()
            if current is not None and current.layout == engine.layout_to_json(layout):
                continue
            template_save(kind="document", master_id=lineage, layout=layout)
        self.say(f"  {len(COBRAND_TEMPLATES)} co-brand templates")

    def history(self) -> None:
        """Spread publication dates over the last 60 days ("New for you" covers 30) and record
        a few downloads, so the home page's feeds have something to show."""
        for spec in ITEMS:
            if spec.in_review_by:
                continue  # never published: it waits for review
            first = self._days_ago(spec.published_days_ago, spec.key)
            updated = spec.updated_days_ago
            last = first if updated is None else self._days_ago(updated, spec.key + ":updated")
            Page.objects.filter(pk=self.pages[spec.key].pk).update(
                first_published_at=first, last_published_at=last
            )
            if spec.translation_of is not None:
                # Its own version entries (those copied from its source have no revision)
                # date from its own publication.
                ProductSheetVersion.objects.filter(
                    page_id=self.pages[spec.key].pk, revision__isnull=False
                ).update(published_at=last)
        for email, key, language, days in DOWNLOADS:
            user, page = self.users[email], self.pages[key]
            specific = page.specific
            if language is None:
                document_id = specific.master_document_id
            else:
                document_id = (
                    # The file's language is in its title (attachments carry no language tag).
                    specific.attachments.filter(title__endswith=f"({language.upper()})")
                    .values_list("document_id", flat=True)
                    .first()
                )
            at = self._days_ago(days, key + email)
            if document_id is not None:
                # The version that was current then (a file may have gained versions since).
                lineage = PortalDocument.objects.get(pk=document_id).lineage
                then = (
                    document_versions(lineage)
                    .filter(created_at__lte=at)
                    .values_list("pk", flat=True)
                    .first()
                )
                document_id = then or document_id
            download_backfill(user=user, item=page, document_id=document_id, at=at)

    def _days_ago(self, days: int, seed: str):
        """``days`` ago at a stable working-hours time (never in the future)."""
        minutes = int(_sha1(seed.encode())[:6], 16) % (9 * 60)
        moment = (self.now - timedelta(days=days)).replace(
            hour=8, minute=0, second=0, microsecond=0
        ) + timedelta(minutes=minutes)
        return min(moment, self.now - timedelta(minutes=5))

    def tasks(self) -> None:
        """The marketers' translation tasks and coverage chart: tasks recomputed (the history's
        date changes and back-dated localized files send no signals), today's snapshot per
        locale, and four weekly snapshots before it in which one more item was done each week
        (the demo's back-dated history, like its downloads)."""
        translation_tasks_refresh()
        today = timezone.localdate()
        default = Locale.get_default()
        for locale in Locale.objects.exclude(pk=default.pk).order_by("language_code"):
            now = coverage_snapshot_record(locale=locale, day=today)
            for weeks in range(4, 0, -1):
                done = max(0, now.done - weeks)
                coverage_snapshot_record(
                    locale=locale,
                    day=today - timedelta(weeks=weeks),
                    counts={
                        "done": done,
                        "missing": now.missing + (now.done - done),
                        "out_of_date": 0,
                        "in_progress": 0,
                        "in_review": 0,
                    },
                )

    # -- summary ----------------------------------------------------------------------------
    def summarize(self) -> None:
        s = self.summary
        kinds: Counter[str] = Counter()
        locales: Counter[str] = Counter()
        for spec in ITEMS:
            kinds[spec.kind] += 1
            locales[self.pages[spec.key].locale.language_code] += 1
        s.items_by_kind = dict(kinds)
        s.items_by_locale = dict(locales)
        by_key = {i.key: i for i in ITEMS}
        s.rules = {
            "minimum tier": sum(1 for i in ITEMS if i.rule.min_tier),
            "regions": sum(1 for i in ITEMS if i.rule.regions),
            "partner types": sum(1 for i in ITEMS if i.rule.types),
            "public": sum(1 for i in ITEMS if i.rule.public),
            "grants": sum(len(i.rule.grants) for i in ITEMS),
            "exceptions": sum(len(i.rule.exceptions) for i in ITEMS),
            "child items": sum(1 for i in ITEMS if (i.parent or "").startswith("item:")),
            "restricted sections": sum(1 for x in SECTIONS if x.rule != ANYONE_SIGNED_IN),
            "withdrawn": sum(1 for i in ITEMS if i.withdrawn),
            "translations": sum(1 for i in ITEMS if i.translation_of),
            "narrowed translations": sum(
                1
                for i in ITEMS
                if i.translation_of
                and i.rule not in (ANYONE_SIGNED_IN, by_key[i.translation_of].rule)
            ),
            "translations in review": sum(1 for i in ITEMS if i.in_review_by),
        }
        s.images = len(self.image_ids)
        s.documents = len(self.document_ids)
        User = get_user_model()
        for spec in USERS:
            user = User.objects.get(pk=self.users[spec.email].pk)  # no cached principal
            org = self.orgs.get(spec.organization) if spec.organization else None
            if org is not None:
                role = dict(Membership.Role.choices)[spec.role]
            else:
                role = "superuser" if spec.superuser else f"staff: {spec.staff_role}"
            s.logins.append(
                LoginRow(
                    email=spec.email,
                    password=spec.password,
                    name=spec.name,
                    organization=(
                        (org.name if org.is_active else f"{org.name} (suspended)")
                        if org
                        else "Altivo Networks (vendor)"
                    ),
                    tier=org.tier.name if org else "—",
                    region=org.region.name if org else "—",
                    partner_type=org.partner_type.name if org else "—",
                    role=str(role),
                    language=spec.language,
                    time_zone=spec.time_zone,
                    visible_items=PortalItemPage.objects.live().visible_to(user).count(),
                )
            )


def _localized_file_backdate(attachment: ItemAttachment, *, sha256: str) -> None:
    """Record that ``attachment`` was made for the master file with ``sha256`` (an earlier file
    of the master): on the row and in the page's revisions that carry it, so the published
    state and any later publish agree that it is out of date."""
    from wagtail.models import Revision

    if attachment.master_sha256 == sha256:
        return
    ItemAttachment.objects.filter(pk=attachment.pk).update(master_sha256=sha256)
    for revision in Revision.page_revisions.filter(object_id=str(attachment.page_id)):
        children = revision.content.get("attachments") or []
        touched = False
        for child in children:
            if child.get("pk") == attachment.pk and child.get("master_sha256") != sha256:
                child["master_sha256"] = sha256
                touched = True
        if touched:
            revision.save(update_fields=["content"])


def demo_seed(*, stdout: TextIO | None = None) -> DemoSummary:
    """Create or update the demo world (organisations, logins, library, items, files).

    Idempotent; all-or-nothing: on an error the database is rolled back and the files written
    so far are deleted.

    Parameters:
        stdout: where to write progress lines (nothing is written when ``None``).

    Returns:
        Counts and the login table (see docs/demo.md).
    """
    started = time.monotonic()
    seeder = _Seeder(stdout)
    try:
        with transaction.atomic(), access_change_source(source=AccessChange.Source.DEMO):
            seeder.say("Seeding the demo…")
            seeder.taxonomy()
            seeder.organizations()
            seeder.logins()
            seeder.structure()
            seeder.brand()
            seeder.marketers()
            seeder.items()
            seeder.cobrand_templates()
            seeder.history()
            seeder.tasks()
            seeder.summarize()
    except BaseException:
        seeder.stored.discard()
        raise
    seeder.summary.seconds = time.monotonic() - started
    return seeder.summary
