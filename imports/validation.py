"""Checking a parsed bundle completely and turning it into a plan for the importer.

``bundle_validate`` reads (never writes) the database for references and reports every entry
with a problem at once (one problem per entry, in bundle order) as one ``BundleError``; what it
returns, a ``BundlePlan``, is what imports.importer applies.
"""

from __future__ import annotations

import html
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter
from wagtail.models import Page
from wagtail.rich_text import features as rich_text_features

from files.validation import UploadRejected, validate_upload
from imports.parsing import (
    ITEM_KEY_RE,
    SECTIONS,
    BundleError,
    Entry,
    Invalid,
    entry_label,
    file_content,
    file_name,
    json_type,
)
from kb.models import ItemKey
from kb.models.pages import CONTENT_KIND_BY_MODEL, MODEL_BY_CONTENT_KIND
from kb.services import FileSpec, tag_normalise
from permissions.models import Membership, PartnerOrganization, PartnerType, Region, Tier
from permissions.services import STAFF_GROUPS

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class TierSpec:
    label: str
    key: str
    name: str
    rank: int


@dataclass
class RegionSpec:
    label: str
    key: str
    name: str
    parent: str | None
    parent_given: bool


@dataclass
class PartnerTypeSpec:
    label: str
    key: str
    name: str


@dataclass
class OrganizationSpec:
    label: str
    key: str
    name: str
    tier: str
    region: str
    partner_type: str
    country: str
    status: str | None
    contact_block: str | None
    primary_color: str | None
    secondary_color: str | None
    # The brand kit's named contact fields (None: absent, the stored value is kept).
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    contact_web: str | None = None


@dataclass
class UserSpec:
    label: str
    email: str
    password: str | None
    organization: str | None
    role: str
    staff_role: str | None
    # Content locales of a regional marketer (staff_role "marketer"); None: as they are.
    locales: list[str] | None
    # Only the profile fields the bundle gives; the others stay as they are on re-import.
    profile: dict[str, str]


@dataclass
class AudienceSpec:
    min_tier: str | None = None
    regions: list[str] = field(default_factory=list)
    partner_types: list[str] = field(default_factory=list)
    public: bool = False


@dataclass
class ItemSpec:
    label: str
    key: str
    kind: str
    title: str
    body: str
    summary: str
    locale: str
    parent: str | None
    product: str | None
    audience: AudienceSpec
    grants: list[str]
    exceptions: list[str]
    files: list[FileSpec]
    tags: list[str] = field(default_factory=list)
    # A translation (docs/bundle-format.md, "Translations"): the key of its source item, and
    # which of title / summary / body the entry gives (the others keep their translation).
    translation_of: str | None = None
    given: frozenset[str] = frozenset()
    # The item's schedule (aware datetimes); None: none (a re-import clears an earlier one).
    go_live_at: datetime | None = None
    expire_at: datetime | None = None
    # A product sheet's version (docs/bundle-format.md): None = leave the sheet's as it is.
    version_label: str | None = None
    change_note: str | None = None  # rich text, as the editor would have stored it


@dataclass
class BundlePlan:
    """A validated bundle; ``items`` are in import order (every parent before its children)."""

    tiers: list[TierSpec] = field(default_factory=list)
    regions: list[RegionSpec] = field(default_factory=list)
    partner_types: list[PartnerTypeSpec] = field(default_factory=list)
    organizations: list[OrganizationSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    items: list[ItemSpec] = field(default_factory=list)
    item_keys: list[str] = field(default_factory=list)  # in bundle order, for the result


class _Validator:
    """Checks a whole bundle, collecting one problem per entry, and builds the BundlePlan."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.plan = BundlePlan()
        self.content_languages = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
        # Small vendor-defined tables: load whole.
        self.db_tiers = {t.key: t for t in Tier.objects.all()}
        self.db_regions = dict(Region.objects.values_list("key", "parent__key"))
        self.db_types = set(PartnerType.objects.values_list("key", flat=True))
        # Keys the bundle declares (even if the entry has another problem, so one mistake does
        # not cascade into "unknown tier" errors everywhere it is used).
        self.tier_keys: set[str] = set()
        self.region_keys: set[str] = set()
        self.type_keys: set[str] = set()
        self.org_keys: set[str] = set()
        self.item_keys: set[str] = set()
        self.org_refs: dict[str, list[tuple[str, str]]] = {}

    def run(self, data: Any) -> BundlePlan:
        if not isinstance(data, dict):
            raise BundleError(f"bundle: must be a JSON object, not {json_type(data)}")
        for name in data:
            if name not in SECTIONS:
                self.errors.append(
                    f'bundle: unknown section "{name}" (allowed: {", ".join(SECTIONS)})'
                )
        sections: dict[str, list] = {}
        for name in SECTIONS:
            value = data.get(name)
            if value is None:
                value = []
            if not isinstance(value, list):
                self.errors.append(f"{name}: must be a list, not {json_type(value)}")
                value = []
            sections[name] = value
        self._declare_keys(sections)
        self._each(sections["tiers"], "tiers", self._tier)
        self._check_tier_ranks()
        self._each(sections["regions"], "regions", self._region)
        self._check_region_cycles()
        self._each(sections["partner_types"], "partner_types", self._partner_type)
        self._each(sections["organizations"], "organizations", self._organization)
        self._each(sections["users"], "users", self._user, id_field="email")
        self._each(sections["items"], "items", self._item)
        self._check_database_refs()
        self._check_items()
        if self.errors:
            raise BundleError(sorted(self.errors, key=_error_position))
        return self.plan

    def _declare_keys(self, sections: dict[str, list]) -> None:
        for section, keys in (
            ("tiers", self.tier_keys),
            ("regions", self.region_keys),
            ("partner_types", self.type_keys),
            ("organizations", self.org_keys),
            ("items", self.item_keys),
        ):
            for entry in sections[section]:
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    keys.add(entry["key"])

    def _each(self, entries: list, section: str, check: Callable, id_field: str = "key") -> None:
        seen: dict[str, str] = {}
        for index, data in enumerate(entries):
            label = entry_label(section, index, data, id_field)
            ident = data.get(id_field) if isinstance(data, dict) else None
            if isinstance(ident, str):
                # E-mail addresses are compared the way logins compare them: case-insensitively.
                norm = ident.lower() if id_field == "email" else ident
                if norm in seen:
                    self.errors.append(
                        f'{label}: duplicate {id_field} "{ident}" (see {seen[norm]})'
                    )
                    continue
                seen[norm] = label
            try:
                check(label, data)
            except Invalid as exc:
                self.errors.append(str(exc))

    # tiers, regions, types ------------------------------------------------------------------

    def _tier(self, label: str, data: Any) -> None:
        entry = Entry(label, data, required=("key", "name", "rank"), optional=())
        key = entry.key("key")
        name = entry.text("name", required=True, max_length=100)
        rank = data["rank"]
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
            raise entry.fail("rank", "must be a whole number >= 0")
        self.plan.tiers.append(TierSpec(label, key, name, rank))

    def _check_tier_ranks(self) -> None:
        by_rank: dict[int, TierSpec] = {}
        for spec in self.plan.tiers:
            if spec.rank in by_rank:
                self.errors.append(
                    f"{spec.label}: rank {spec.rank} is also the rank of "
                    f'"{by_rank[spec.rank].key}" (ranks are unique)'
                )
            by_rank.setdefault(spec.rank, spec)
        for key, tier in self.db_tiers.items():
            ranked = by_rank.get(tier.rank)
            if key not in self.tier_keys and ranked is not None:
                self.errors.append(
                    f"{ranked.label}: rank {ranked.rank} is already the rank of tier "
                    f'"{key}" in the database (ranks are unique)'
                )

    def _region(self, label: str, data: Any) -> None:
        entry = Entry(label, data, required=("key", "name"), optional=("parent",))
        key = entry.key("key")
        name = entry.text("name", required=True, max_length=100)
        parent = entry.text("parent")
        if parent is not None and parent not in self.region_keys | self.db_regions.keys():
            raise entry.fail("parent", f'unknown region "{parent}"')
        self.plan.regions.append(RegionSpec(label, key, name, parent, entry.has("parent")))

    def _check_region_cycles(self) -> None:
        # The hierarchy after the import: the database's, overlaid with the bundle's.
        parents: dict[str, str | None] = dict(self.db_regions)
        for spec in self.plan.regions:
            if spec.parent_given or spec.key not in parents:
                parents[spec.key] = spec.parent
        reported: set[frozenset[str]] = set()
        for spec in self.plan.regions:
            chain = [spec.key]
            current = parents.get(spec.key)
            while current is not None and current not in chain:
                chain.append(current)
                current = parents.get(current)
            if current == spec.key:
                cycle = frozenset(chain)
                if cycle not in reported:
                    reported.add(cycle)
                    self.errors.append(
                        f"{spec.label}: parent cycle {' → '.join([*chain, spec.key])}"
                    )

    def _partner_type(self, label: str, data: Any) -> None:
        entry = Entry(label, data, required=("key", "name"), optional=())
        self.plan.partner_types.append(
            PartnerTypeSpec(
                label, entry.key("key"), entry.text("name", required=True, max_length=100)
            )
        )

    # organisations and users ----------------------------------------------------------------

    def _organization(self, label: str, data: Any) -> None:
        entry = Entry(
            label,
            data,
            required=("key", "name", "tier", "region", "type", "country"),
            optional=(
                "status",
                "contact_block",
                "contact_name",
                "contact_phone",
                "contact_email",
                "contact_web",
                "primary_color",
                "secondary_color",
            ),
        )
        key = entry.key("key")
        name = entry.text("name", required=True, max_length=200)
        tier = entry.text("tier", required=True)
        if tier not in self.tier_keys | self.db_tiers.keys():
            raise entry.fail("tier", f'unknown tier "{tier}"')
        region = entry.text("region", required=True)
        if region not in self.region_keys | self.db_regions.keys():
            raise entry.fail("region", f'unknown region "{region}"')
        partner_type = entry.text("type", required=True)
        if partner_type not in self.type_keys | self.db_types:
            raise entry.fail("type", f'unknown partner type "{partner_type}"')
        country = entry.text("country", required=True)
        if not COUNTRY_RE.match(country):
            raise entry.fail("country", f'"{country}" is not a two-letter country code')
        status = entry.choice("status", PartnerOrganization.Status.values)
        contact_block = entry.text("contact_block", blank=True)
        colors = {}
        for name_ in ("primary_color", "secondary_color"):
            value = entry.text(name_, blank=True)
            if value and not COLOR_RE.match(value):
                raise entry.fail(name_, f'"{value}" is not a colour like #1f6feb')
            colors[name_] = value or None
        contacts = {
            name_: entry.text(name_, blank=True, max_length=limit)
            for name_, limit in (
                ("contact_name", 200),
                ("contact_phone", 50),
                ("contact_email", 254),
                ("contact_web", 200),
            )
        }
        if contacts["contact_email"]:
            try:
                validate_email(contacts["contact_email"])
            except ValidationError as exc:
                raise entry.fail(
                    "contact_email", f'"{contacts["contact_email"]}" is not a valid e-mail address'
                ) from exc
        self.plan.organizations.append(
            OrganizationSpec(
                label,
                key,
                name,
                tier,
                region,
                partner_type,
                country.upper(),
                status,
                contact_block,
                **colors,
                **contacts,
            )
        )

    def _user(self, label: str, data: Any) -> None:
        entry = Entry(
            label,
            data,
            required=("email",),
            optional=(
                "password",
                "organization",
                "role",
                "staff_role",
                "first_name",
                "last_name",
                "preferred_language",
                "time_zone",
                "locales",
            ),
        )
        email = entry.text("email", required=True, max_length=254)
        try:
            validate_email(email)
        except ValidationError as exc:
            raise entry.fail("email", f'"{email}" is not a valid e-mail address') from exc
        organization = entry.text("organization")
        staff_role = entry.choice("staff_role", STAFF_GROUPS)
        if organization is not None and staff_role is not None:
            raise entry.fail(
                None, "has both organization and staff_role (a user is one or the other)"
            )
        if organization is None and staff_role is None:
            raise entry.fail(None, "needs an organization or a staff_role")
        if staff_role is not None and entry.has("role"):
            raise entry.fail("role", "applies to organisation members only, not to staff")
        role = entry.choice("role", Membership.Role.values, default=Membership.Role.MEMBER)
        locales = None
        if entry.has("locales"):
            if staff_role != "marketer":
                raise entry.fail("locales", 'applies to staff_role "marketer" only')
            locales = [
                code
                for value in entry.key_list("locales")
                if (code := self._locale_code(entry, "locales", value)) is not None
            ]
            for code in locales:
                if code == settings.LANGUAGE_CODE:
                    raise entry.fail(
                        "locales",
                        f'"{code}" is the source locale: its pages are edited by editors, '
                        "not by regional marketers",
                    )
            locales = list(dict.fromkeys(locales))
        if organization is not None and organization not in self.org_keys:
            self.org_refs.setdefault(organization, []).append((label, "organization"))
        profile: dict[str, str] = {}
        for name in ("first_name", "last_name"):
            value = entry.text(name, blank=True, max_length=150)
            if value is not None:
                profile[name] = value
        ui_languages = [code for code, _ in settings.LANGUAGES]
        language = entry.text("preferred_language")
        if language is not None:
            # Django's lower-case codes; any case and "_" accepted (pt-BR, zh_Hans).
            code = language.replace("_", "-").lower()
            if code not in ui_languages:
                raise entry.fail(
                    "preferred_language", f'"{language}" is not one of {", ".join(ui_languages)}'
                )
            profile["preferred_language"] = code
        time_zone = entry.text("time_zone")
        if time_zone is not None:
            if time_zone not in zoneinfo.available_timezones():
                raise entry.fail("time_zone", f'unknown time zone "{time_zone}"')
            profile["time_zone"] = time_zone
        password = entry.text("password")
        if password is not None:
            # The same rules as a password chosen in the portal; a bundle is no back door for
            # "changeme". The message never repeats the password.
            probe = get_user_model()(
                email=email, **{k: profile.get(k, "") for k in ("first_name", "last_name")}
            )
            try:
                password_validation.validate_password(password, user=probe)
            except ValidationError as exc:
                raise entry.fail("password", " ".join(exc.messages)) from exc
        self.plan.users.append(
            UserSpec(
                label, email.lower(), password, organization, role, staff_role, locales, profile
            )
        )

    # items ----------------------------------------------------------------------------------

    def _item(self, label: str, data: Any) -> None:
        entry = Entry(
            label,
            data,
            required=("key", "kind", "title"),
            optional=(
                "body",
                "summary",
                "locale",
                "parent",
                "product",
                "audience",
                "grants",
                "exceptions",
                "files",
                "tags",
                "translation_of",
                "go_live_at",
                "expire_at",
                "version_label",
                "change_note",
            ),
        )
        key = entry.key("key", pattern=ITEM_KEY_RE, max_length=120)
        kind = entry.choice("kind", MODEL_BY_CONTENT_KIND, required=True)
        title = entry.text("title", required=True, max_length=255)
        body = entry.text("body", default="", blank=True)
        summary = entry.text("summary", default="", blank=True)
        locale = self._locale_code(entry, "locale", entry.text("locale")) or settings.LANGUAGE_CODE
        translation_of = entry.text("translation_of")
        if translation_of is not None:
            self._translation_entry(entry, key, translation_of)
        parent = entry.text("parent")
        if parent == key:
            raise entry.fail("parent", "an item cannot be its own parent")
        product = entry.text("product", max_length=120)
        audience = self._audience(entry)
        grants = entry.key_list("grants")
        exceptions = entry.key_list("exceptions")
        for name, keys in (("grants", grants), ("exceptions", exceptions)):
            for org in keys:
                if org not in self.org_keys:
                    self.org_refs.setdefault(org, []).append((label, name))
        both = set(grants) & set(exceptions)
        if both:
            raise entry.fail(
                None, f'organisation "{sorted(both)[0]}" is both in grants and in exceptions'
            )
        go_live_at, expire_at = self._schedule(entry, translation=translation_of is not None)
        files = self._files(entry, locale, translation=translation_of is not None)
        tags = self._tags(entry)
        version_label, change_note = self._sheet_version(entry, kind, translation_of)
        self.plan.items.append(
            ItemSpec(
                label,
                key,
                kind,
                title,
                _rich_text(body),
                summary,
                locale,
                parent,
                product,
                audience,
                grants,
                exceptions,
                files,
                tags,
                translation_of,
                frozenset(n for n in ("title", "summary", "body", "audience") if entry.has(n)),
                go_live_at,
                expire_at,
                version_label,
                change_note,
            )
        )

    def _schedule(
        self, entry: Entry, *, translation: bool
    ) -> tuple[datetime | None, datetime | None]:
        """``go_live_at`` and ``expire_at``: ISO 8601 with a UTC offset, expiry after go-live."""
        if translation:
            for name in ("go_live_at", "expire_at"):
                if entry.data.get(name) is not None:
                    raise entry.fail(
                        name,
                        "a translation follows its source's go-live and expiry (set them on "
                        "the source)",
                    )
            return None, None
        go_live_at = _aware_datetime(entry, "go_live_at")
        expire_at = _aware_datetime(entry, "expire_at")
        if go_live_at is not None and expire_at is not None and expire_at <= go_live_at:
            raise entry.fail(
                "expire_at",
                f'"{entry.data["expire_at"]}" is not after go_live_at "{entry.data["go_live_at"]}"',
            )
        return go_live_at, expire_at

    def _sheet_version(
        self, entry: Entry, kind: str, translation_of: str | None
    ) -> tuple[str | None, str | None]:
        """A product sheet's ``version_label`` and ``change_note`` (whether a label is new, and
        so needs a note, is checked against the sheet's history when importing)."""
        for name in ("version_label", "change_note"):
            if entry.has(name) and kind != "product_sheet":
                raise entry.fail(name, "only a product sheet has versions")
        if translation_of is not None and entry.has("version_label"):
            raise entry.fail(
                "version_label",
                "a translation has its source's version label; give only its change_note",
            )
        label = entry.text("version_label", max_length=40)
        note = entry.text("change_note", blank=True)
        if note is not None and label is None and translation_of is None:
            raise entry.fail("change_note", "a change_note needs the version_label it describes")
        return (
            label.strip() if label is not None else None,
            _rich_text(note) if note is not None else None,
        )

    def _locale_code(self, entry: Entry, name: str, value: str | None) -> str | None:
        """A content language code given in any case (``DE``, ``pt-BR``), in Django's form."""
        if value is None:
            return None
        code = value.strip().lower().replace("_", "-")
        if code not in self.content_languages:
            raise entry.fail(
                name,
                f'unknown locale "{value}" (content locales: {", ".join(self.content_languages)})',
            )
        return code

    def _translation_entry(self, entry: Entry, key: str, source: str) -> None:
        """What a translation entry may not carry (it has its source's place and grants)."""
        if source == key:
            raise entry.fail("translation_of", "an item cannot be a translation of itself")
        if not entry.has("locale"):
            raise entry.fail("locale", "a translation needs the locale it is written in")
        if entry.has("parent"):
            raise entry.fail(
                "parent",
                "a translation has no parent of its own: it takes its place under the "
                "translation of its source's parent",
            )
        for name in ("grants", "exceptions"):
            if entry.data.get(name):
                raise entry.fail(
                    name,
                    "grants and exceptions are set on the source and apply to all its "
                    "translations; a translation narrows only by its audience",
                )
        for name, why in (
            ("product", "its source's product"),
            ("tags", "its source's tags"),
        ):
            if entry.has(name):
                raise entry.fail(name, f"a translation has {why}")

    def _tags(self, item: Entry) -> list[str]:
        """Normalised tags (``kb.services.tag_normalise``), repeats after normalising dropped."""
        item.key_list("tags")  # null or absent: no tags; a non-list or non-string is refused
        tags: list[str] = []
        for index, value in enumerate(item.data.get("tags") or []):
            try:
                tag = tag_normalise(value)
            except ValueError as exc:
                raise item.fail(f"tags[{index}]", str(exc)) from exc
            if tag not in tags:
                tags.append(tag)
        return tags

    def _audience(self, item: Entry) -> AudienceSpec:
        data = item.data.get("audience")
        if data is None:
            return AudienceSpec()
        entry = Entry(
            f"{item.label}: audience",
            data,
            required=(),
            optional=("min_tier", "regions", "partner_types", "public"),
        )
        spec = AudienceSpec(
            min_tier=entry.text("min_tier"),
            regions=entry.key_list("regions"),
            partner_types=entry.key_list("partner_types"),
            public=entry.boolean("public"),
        )
        if spec.min_tier is not None and spec.min_tier not in self.tier_keys | self.db_tiers.keys():
            raise entry.fail("min_tier", f'unknown tier "{spec.min_tier}"')
        for region in spec.regions:
            if region not in self.region_keys | self.db_regions.keys():
                raise entry.fail("regions", f'unknown region "{region}"')
        for partner_type in spec.partner_types:
            if partner_type not in self.type_keys | self.db_types:
                raise entry.fail("partner_types", f'unknown partner type "{partner_type}"')
        return spec

    def _files(self, item: Entry, locale: str, translation: bool = False) -> list[FileSpec]:
        data = item.data.get("files")
        if data is None:
            return []
        if not isinstance(data, list):
            raise item.fail("files", f"must be a list, not {json_type(data)}")
        specs: list[FileSpec] = []
        titles: set[str] = set()
        for index, file_data in enumerate(data):
            label = f"{item.label}: {entry_label('files', index, file_data, 'name')}"
            entry = Entry(
                label,
                file_data,
                required=("name", "content_base64"),
                optional=("language", "title", "localizes", "version_label", "version_notes"),
            )
            name = file_name(entry)
            content = file_content(entry)
            try:
                name = validate_upload(name=name, content=content, kind="document")
            except UploadRejected as exc:
                raise entry.fail("content_base64", f"refused: {exc.messages[0]}") from exc
            language = entry.choice("language", self.content_languages, default=locale)
            title = entry.text("title", default="", blank=True, max_length=200)
            # Attachments are matched by title on re-import (kb.services._sync_attachments), so
            # two files with one title would overwrite each other.
            effective = title or name
            if effective in titles:
                raise entry.fail(None, f'another file of this item has the title "{effective}"')
            titles.add(effective)
            localizes = entry.text("localizes", default="", max_length=200)
            if translation and not localizes:
                raise entry.fail(
                    "localizes",
                    "a translation's file names the file of its source it localizes",
                )
            if localizes and not translation:
                raise entry.fail("localizes", "only a translation's files localize a source file")
            # max_length: files.PortalDocument.version_label.
            version_label = entry.text("version_label", blank=True, max_length=40)
            version_notes = entry.text("version_notes", blank=True, max_length=5000)
            specs.append(
                FileSpec(
                    name=name,
                    content=content,
                    language=language,
                    title=title,
                    localizes=localizes,
                    version_label=version_label,
                    version_notes=version_notes,
                )
            )
        return specs

    # cross-entry checks ---------------------------------------------------------------------

    def _check_database_refs(self) -> None:
        known = set(
            PartnerOrganization.objects.filter(key__in=list(self.org_refs)).values_list(
                "key", flat=True
            )
        )
        for org, uses in self.org_refs.items():
            if org not in known:
                for label, name in uses:
                    self.errors.append(f'{label}: {name}: unknown organisation "{org}"')
        superusers = set(
            get_user_model()
            .objects.annotate(email_lower=Lower("email"))
            .filter(
                email_lower__in=[u.email for u in self.plan.users if u.organization],
                is_superuser=True,
            )
            .values_list("email_lower", flat=True)
        )
        for user in self.plan.users:
            if user.email in superusers:
                self.errors.append(
                    f"{user.label}: is a superuser; a bundle does not turn a superuser into a "
                    "partner user"
                )

    def _check_items(self) -> None:
        items = {spec.key: spec for spec in self.plan.items}
        wanted = (
            set(items)
            | {spec.parent for spec in self.plan.items if spec.parent}
            | {spec.translation_of for spec in self.plan.items if spec.translation_of}
        )
        existing = {
            row.key: row.page
            for row in ItemKey.objects.filter(key__in=wanted).select_related("page__locale")
        }
        self._check_translations(items, existing)
        for spec in self.plan.items:
            if spec.translation_of is not None:
                continue  # checked above
            page = existing.get(spec.key)
            if page is not None and page.locale.language_code != settings.LANGUAGE_CODE:
                source = _source_of(page)
                if source is not None:
                    self.errors.append(
                        f'{spec.label}: the item is a translation of "{_item_key(source)}"; '
                        'give "translation_of" and its "locale" (a translation stays one)'
                    )
                    continue
            if page is not None:
                if page.specific_class is not MODEL_BY_CONTENT_KIND[spec.kind]:
                    self.errors.append(
                        f'{spec.label}: kind: the item exists as "{_kind_of(page)}"; '
                        "an item's kind cannot change"
                    )
                elif page.locale.language_code != spec.locale:
                    self.errors.append(
                        f'{spec.label}: locale: the item exists in "{page.locale.language_code}"; '
                        "an item's locale cannot change"
                    )
            if spec.parent is None:
                continue
            if spec.parent in items:
                parent_locale = items[spec.parent].locale
            elif spec.parent in existing:
                parent_locale = existing[spec.parent].locale.language_code
            elif spec.parent in self.item_keys:
                continue  # the parent's own entry is invalid and reported there
            else:
                self.errors.append(f'{spec.label}: parent: unknown item "{spec.parent}"')
                continue
            if parent_locale != spec.locale:
                self.errors.append(
                    f'{spec.label}: parent: "{spec.parent}" is in locale "{parent_locale}", '
                    f'this item in "{spec.locale}"'
                )
        self.plan.item_keys = list(items)
        # Ordering also finds parent cycles, so it runs even when other entries failed.
        self.plan.items = self._item_order(items, existing)

    def _check_translations(self, items: dict[str, ItemSpec], existing: dict[str, Page]) -> None:
        """Each translation: a known source in the default locale, another locale than the
        source's, one per (source, locale), and its source's parent translated into it."""
        pairs: dict[tuple[str, str], str] = {}
        translations = [spec for spec in self.plan.items if spec.translation_of is not None]
        for spec in translations:
            pairs.setdefault((spec.translation_of or "", spec.locale), spec.key)
        for spec in translations:
            problem = self._translation_problem(spec, items, existing, pairs)
            if problem is not None:
                self.errors.append(f"{spec.label}: {problem}")

    def _translation_problem(
        self,
        spec: ItemSpec,
        items: dict[str, ItemSpec],
        existing: dict[str, Page],
        pairs: dict[tuple[str, str], str],
    ) -> str | None:
        default = settings.LANGUAGE_CODE
        source_key = spec.translation_of or ""
        first = pairs[(source_key, spec.locale)]
        if first != spec.key:
            return (
                f'translation_of: "{source_key}" is already translated into "{spec.locale}" '
                f'by item "{first}" (one translation per source and locale)'
            )
        source_spec = items.get(source_key)
        source_page = existing.get(source_key)
        if source_spec is not None:
            if source_spec.translation_of is not None:
                return (
                    f'translation_of: "{source_key}" is itself a translation; translate its '
                    f'source "{source_spec.translation_of}" instead'
                )
            source_locale, source_kind = source_spec.locale, source_spec.kind
        elif source_page is not None:
            source_locale = source_page.locale.language_code
            source_kind = _kind_of(source_page)
            if source_locale != default and _source_of(source_page) is not None:
                return (
                    f'translation_of: "{source_key}" is itself a translation; translate its '
                    f'source "{_item_key(_source_of(source_page))}" instead'
                )
        elif source_key in self.item_keys:
            return None  # the source's own entry is invalid and reported there
        else:
            return f'translation_of: unknown item "{source_key}"'
        if spec.locale == source_locale:
            return f'locale: "{spec.locale}" is the locale of its source "{source_key}"'
        if source_locale != default:
            return (
                f'translation_of: "{source_key}" is in locale "{source_locale}"; translations are '
                f'made of items in the source locale "{default}"'
            )
        if spec.kind != source_kind:
            return f'kind: "{spec.kind}" but its source "{source_key}" is "{source_kind}"'
        page = existing.get(spec.key)
        if page is not None:
            same_group = source_page is not None and (
                page.translation_key == source_page.translation_key
            )
            if not same_group or page.locale.language_code != spec.locale:
                return (
                    f'the item exists and is not the "{spec.locale}" translation of '
                    f'"{source_key}" (an item does not become another item\'s translation)'
                )
        elif source_page is not None:
            other = source_page.get_translation_or_none(_locale_row(spec.locale))
            if other is not None and _item_key(other) not in (None, spec.key):
                return (
                    f'translation_of: "{source_key}" already has its "{spec.locale}" '
                    f'translation, item "{_item_key(other)}"'
                )
        if spec.files:
            if source_spec is not None:
                names = {f.title or f.name for f in source_spec.files}
            elif source_page is not None:
                names = {
                    a.title or a.document.title
                    for a in source_page.specific.attachments.filter(
                        master__isnull=True
                    ).select_related("document")
                }
            for file in spec.files:
                if file.localizes not in names:
                    return (
                        f'files: "{file.title or file.name}" localizes "{file.localizes}", '
                        f'which is not a file of "{source_key}"'
                    )
        return self._parent_translation_problem(spec, source_spec, source_page, existing, pairs)

    def _parent_translation_problem(
        self,
        spec: ItemSpec,
        source_spec: ItemSpec | None,
        source_page: Page | None,
        existing: dict[str, Page],
        pairs: dict[tuple[str, str], str],
    ) -> str | None:
        """The source's parent (after this import) must have a translation in the locale."""
        parent_key = source_spec.parent if source_spec is not None else None
        parent_page = None
        if parent_key is None and source_page is not None:
            parent_page = source_page.get_parent()
            parent_key = _item_key(parent_page)
        if parent_key is not None:
            if (parent_key, spec.locale) in pairs:
                return None  # translated by this bundle, before this entry
            parent_page = existing.get(parent_key) or (
                ItemKey.objects.filter(key=parent_key).select_related("page").first()
            )
            if isinstance(parent_page, ItemKey):
                parent_page = parent_page.page
            if parent_page is None and parent_key in self.item_keys:
                return (
                    f'translation_of: the parent of "{spec.translation_of}" (item "{parent_key}") '
                    f'has no translation in "{spec.locale}"; translate it first (in the bundle '
                    "or before)"
                )
            if parent_page is None:
                return None  # an unknown parent is reported on the source's entry
        if parent_page is None:
            return None  # the locale's library: every content locale has one
        if parent_page.get_translation_or_none(_locale_row(spec.locale)) is None:
            name = f'item "{parent_key}"' if parent_key else f'"{parent_page.title}"'
            return (
                f'translation_of: the parent of "{spec.translation_of}" ({name}) has no '
                f'translation in "{spec.locale}"; translate it first (in the bundle or before)'
            )
        return None

    def _item_order(self, items: dict[str, ItemSpec], existing: dict[str, Page]) -> list[ItemSpec]:
        """Bundle items sorted so every item comes after the bundle items it will sit under.

        An item may sit under an already-imported item that is itself below another bundle item
        (A > C > P in the tree, the bundle moves A under P): walking P's real ancestors finds the
        nearest bundle item, so C moves first and A under its own descendant is a cycle.
        """
        page_to_key = {existing[key].pk: key for key in items if key in existing}
        depends: dict[str, str | None] = {}
        translated = {
            (s.translation_of, s.locale): s.key for s in items.values() if s.translation_of
        }
        for spec in items.values():
            if spec.translation_of is not None:
                # After the translation of its source's parent when the bundle makes it (and,
                # see ready() below, after its source when the bundle has it).
                source = items.get(spec.translation_of)
                if source is not None:
                    parent = source.parent
                elif spec.translation_of in existing:
                    parent = _item_key(existing[spec.translation_of].get_parent())
                else:
                    parent = None
                depends[spec.key] = translated.get((parent, spec.locale)) if parent else None
            elif spec.parent is None:
                depends[spec.key] = None
            elif spec.parent in items:
                depends[spec.key] = spec.parent
            elif spec.parent not in existing:
                depends[spec.key] = None  # unknown parent, reported by _check_items
            else:
                parent_page = existing[spec.parent]
                chain = [parent_page, *reversed(parent_page.get_ancestors())]
                depends[spec.key] = next(
                    (page_to_key[p.pk] for p in chain if p.pk in page_to_key), None
                )
        order: list[ItemSpec] = []
        placed: set[str] = set()
        pending = list(items.values())

        def is_ready(spec: ItemSpec) -> bool:
            if depends[spec.key] is not None and depends[spec.key] not in placed:
                return False
            # A translation also waits for its source (when the bundle has it).
            source = spec.translation_of
            return source is None or source not in items or source in placed

        # Items are few (hundreds); a repeated scan keeps the bundle's order among siblings.
        while pending:
            ready = [s for s in pending if is_ready(s)]
            if not ready:
                break
            for spec in ready:
                order.append(spec)
                placed.add(spec.key)
            pending = [s for s in pending if s.key not in placed]
        reported: set[frozenset[str]] = set()
        for spec in pending:
            chain = [spec.key]
            current = depends[spec.key]
            while current is not None and current not in chain:
                chain.append(current)
                current = depends[current]
            if current is None:
                continue  # below a cycle, not part of it; the cycle's own entries report it
            cycle = chain[chain.index(current) :]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                first = min((items[k] for k in cycle), key=lambda s: self.plan.items.index(s))
                rotated = cycle[cycle.index(first.key) :] + cycle[: cycle.index(first.key)]
                self.errors.append(
                    f"{first.label}: parent cycle {' → '.join([*rotated, first.key])}"
                )
        return order


_POSITION_RE = re.compile(r"^(\w+)\[(\d+)\]")


def _error_position(message: str) -> tuple[int, int]:
    """Sort key: problems in bundle order (sections, then entries), "bundle:" ones first."""
    match = _POSITION_RE.match(message)
    if match is None or match.group(1) not in SECTIONS:
        return (-1, 0)
    return (SECTIONS.index(match.group(1)), int(match.group(2)))


_OFFSET_EXAMPLE = "2026-05-01T09:00:00+02:00 or 2026-05-01T07:00:00Z"


def _aware_datetime(entry: Entry, name: str) -> datetime | None:
    """A date and time in ISO 8601 WITH a UTC offset (``Z`` or ``+02:00``), or None."""
    value = entry.text(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise entry.fail(
            name, f'"{value}" is not an ISO 8601 date and time (e.g. {_OFFSET_EXAMPLE})'
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would be read in some server's zone: refused rather than guessed.
        raise entry.fail(name, f'"{value}" has no UTC offset; give one, e.g. {_OFFSET_EXAMPLE}')
    return moment


def _locale_row(code: str):
    from wagtail.models import Locale

    return Locale.objects.filter(language_code=code).first()


def _item_key(page: Page) -> str | None:
    """The bundle key of an item page, or None (a section, a library, an unkeyed page)."""
    return ItemKey.objects.filter(page_id=page.pk).values_list("key", flat=True).first()


def _source_of(page: Page) -> Page | None:
    """The default-locale page of ``page``'s translation group, or None."""
    from wagtail.models import Locale

    if page.locale_id == Locale.get_default().pk:
        return None
    return Page.objects.filter(
        translation_key=page.translation_key, locale=Locale.get_default()
    ).first()


def _kind_of(page: Page) -> str:
    return CONTENT_KIND_BY_MODEL.get(page.specific_class.__name__, page.specific_class.__name__)


def _rich_text(body: str) -> str:
    """Body text as the rich text the admin editor would have stored.

    Plain text becomes paragraphs; HTML goes through the editor's own converter, which keeps only
    the features the body field allows (no scripts, styles or javascript: links).
    """
    if not body.strip():
        return ""
    if "<" not in body:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        body = "".join(
            "<p>" + "<br/>".join(html.escape(line) for line in p.splitlines()) + "</p>"
            for p in paragraphs
        )
    converter = ContentstateConverter(rich_text_features.get_default_features())
    return converter.to_database_format(converter.from_database_format(body))


def bundle_validate(*, data: dict) -> BundlePlan:
    """Check a parsed bundle completely, reading (never writing) the database for references.

    Raises:
        BundleError: listing every entry with a problem (one problem per entry).
    """
    return _Validator().run(data)
