"""Partner bundles: one JSON document that upserts tiers, regions, partner types, organisations,
users and items (with their files) in a single all-or-nothing import.

The format is documented in docs/bundle-format.md. ``bundle_import`` first validates the whole
bundle (shape, types, references, cycles, file contents) and only then writes, inside one
transaction. Files written to storage by an import that fails are deleted again, so a failed
import leaves the database and media storage exactly as they were; an import journal
(files/journal.py) extends that to an import that is killed.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter
from wagtail.models import Page, Site
from wagtail.rich_text import features as rich_text_features

from files.journal import ImportJournal, Settled
from files.models import PortalDocument
from files.validation import UploadRejected, validate_upload
from kb.models import ItemKey, LibraryIndexPage, PortalHomePage, PortalItemPage
from kb.models.pages import CONTENT_KIND_BY_MODEL, MODEL_BY_CONTENT_KIND
from kb.services import (
    Audience,
    FileSpec,
    StoredFiles,
    item_upsert,
    library_for_locale,
    product_ensure,
    site_structure_ensure,
    tag_normalise,
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
    STAFF_GROUPS,
    access_change_source,
    audience_recompute_all,
    organization_upsert,
    user_upsert,
)

logger = logging.getLogger("portal.imports")

SECTIONS = ("tiers", "regions", "partner_types", "organizations", "users", "items")

# Same rule as permissions.models.key_validator (tiers, regions, types, organisations).
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Item keys are external identifiers (ItemKey.key): a little more permissive, still URL-safe.
ITEM_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
# More than this and a message stops being readable; the first problems are the useful ones.
MAX_REPORTED_ERRORS = 50


class BundleError(Exception):
    """A bundle that cannot be imported. Each message names the entry and the reason, e.g.
    ``items[3] (key "x1-sheet"): audience.min_tier: unknown tier "goldd"``."""

    def __init__(self, errors: str | Iterable[str]):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        shown = self.errors[:MAX_REPORTED_ERRORS]
        lines = shown if len(self.errors) == 1 else [f"{len(self.errors)} problems:", *shown]
        if len(self.errors) > len(shown):
            lines.append(f"... and {len(self.errors) - len(shown)} more")
        super().__init__("\n".join(lines))


class _Invalid(Exception):
    """The first problem of one entry; the validator collects these into one BundleError."""


# --- parsing --------------------------------------------------------------------------------


def _reject_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict:
    # json.loads silently keeps the last of two equal keys; in a hand-edited bundle that is
    # almost always a mistake that would otherwise import the wrong value.
    result: dict = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f'duplicate field "{name}" in one JSON object')
        result[name] = value
    return result


def bundle_parse(text: str) -> Any:
    """Parse a bundle's JSON text (the shape is checked by ``bundle_validate``).

    Raises:
        BundleError: the text is not JSON, or an object repeats a field.
    """
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_fields)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"bundle: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:
        raise BundleError(f"bundle: {exc}") from exc


# --- validated plan -------------------------------------------------------------------------


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


@dataclass
class UserSpec:
    label: str
    email: str
    password: str | None
    organization: str | None
    role: str
    staff_role: str | None
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


# --- validation -----------------------------------------------------------------------------


class _Entry:
    """One JSON object of the bundle with its label, for typed reads that fail with context."""

    def __init__(self, label: str, data: Any, *, required: Iterable[str], optional: Iterable[str]):
        self.label = label
        if not isinstance(data, dict):
            raise _Invalid(f"{label}: must be a JSON object, not {_json_type(data)}")
        self.data = data
        required, optional = tuple(required), tuple(optional)
        allowed = set(required) | set(optional)
        for name in data:
            if name not in allowed:
                raise _Invalid(
                    f'{label}: unknown field "{name}" (allowed: {", ".join(sorted(allowed))})'
                )
        for name in required:
            if name not in data:
                raise _Invalid(f'{label}: missing field "{name}"')

    def fail(self, name: str | None, message: str) -> _Invalid:
        return _Invalid(f"{self.label}: {name}: {message}" if name else f"{self.label}: {message}")

    def has(self, name: str) -> bool:
        return name in self.data

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str | None = None,
        blank: bool = False,
        max_length: int | None = None,
    ) -> Any:
        """A string field; absent or null gives ``default`` unless ``required``."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "must not be null")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, not {_json_type(value)}")
        if not blank and not value.strip():
            raise self.fail(name, "must not be empty")
        if max_length is not None and len(value) > max_length:
            raise self.fail(name, f"is longer than {max_length} characters")
        return value

    def key(self, name: str, *, pattern: re.Pattern = KEY_RE, max_length: int = 50) -> str:
        value = self.text(name, required=True, max_length=max_length)
        if not pattern.match(value):
            allowed = (
                "lower-case letters, digits, - and _"
                if pattern is KEY_RE
                else "letters, digits, ., - and _"
            )
            raise self.fail(name, f'"{value}" is not a valid key ({allowed}, no leading symbol)')
        return value

    def choice(
        self, name: str, choices: Iterable[str], *, required: bool = False, default: Any = None
    ) -> Any:
        value = self.text(name, required=required, default=default)
        choices = list(choices)
        if value is not None and value not in choices:
            raise self.fail(name, f'"{value}" is not one of {", ".join(choices)}')
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, not {_json_type(value)}")
        return value

    def key_list(self, name: str) -> list[str]:
        """A list of keys; null or absent is the empty list. Repeats are dropped."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, f"must be a list, not {_json_type(value)}")
        for i, element in enumerate(value):
            if not isinstance(element, str):
                raise self.fail(f"{name}[{i}]", f"must be a string, not {_json_type(element)}")
        return list(dict.fromkeys(value))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _entry_label(section: str, index: int, data: Any, id_field: str = "key") -> str:
    ident = data.get(id_field) if isinstance(data, dict) else None
    suffix = f' ({id_field} "{ident}")' if isinstance(ident, str) else ""
    return f"{section}[{index}]{suffix}"


def _validate_file_name(entry: _Entry) -> str:
    name = entry.text("name", required=True, max_length=100)
    # The name becomes part of a storage path: anything that could leave documents/ (or hide a
    # second extension behind a control character) is refused rather than "cleaned".
    if "/" in name or "\\" in name or ".." in name or name.strip(". ") == "":
        raise entry.fail("name", f'"{name}" must be a plain file name (no / \\ or ..)')
    if any(ord(ch) < 32 for ch in name):
        raise entry.fail("name", "must not contain control characters")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [ext.lower() for ext in getattr(settings, "WAGTAILDOCS_EXTENSIONS", None) or []]
    if allowed and extension not in allowed:
        raise entry.fail("name", f'"{name}": file type not allowed (allowed: {", ".join(allowed)})')
    return name


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
            raise BundleError(f"bundle: must be a JSON object, not {_json_type(data)}")
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
                self.errors.append(f"{name}: must be a list, not {_json_type(value)}")
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
            label = _entry_label(section, index, data, id_field)
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
            except _Invalid as exc:
                self.errors.append(str(exc))

    # tiers, regions, types ------------------------------------------------------------------

    def _tier(self, label: str, data: Any) -> None:
        entry = _Entry(label, data, required=("key", "name", "rank"), optional=())
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
            spec = by_rank.get(tier.rank)
            if key not in self.tier_keys and spec is not None:
                self.errors.append(
                    f'{spec.label}: rank {spec.rank} is already the rank of tier "{key}" in the '
                    "database (ranks are unique)"
                )

    def _region(self, label: str, data: Any) -> None:
        entry = _Entry(label, data, required=("key", "name"), optional=("parent",))
        key = entry.key("key")
        name = entry.text("name", required=True, max_length=100)
        parent = entry.text("parent")
        if parent is not None and parent not in self.region_keys | self.db_regions.keys():
            raise entry.fail("parent", f'unknown region "{parent}"')
        self.plan.regions.append(RegionSpec(label, key, name, parent, entry.has("parent")))

    def _check_region_cycles(self) -> None:
        # The hierarchy after the import: the database's, overlaid with the bundle's.
        parents = dict(self.db_regions)
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
        entry = _Entry(label, data, required=("key", "name"), optional=())
        self.plan.partner_types.append(
            PartnerTypeSpec(
                label, entry.key("key"), entry.text("name", required=True, max_length=100)
            )
        )

    # organisations and users ----------------------------------------------------------------

    def _organization(self, label: str, data: Any) -> None:
        entry = _Entry(
            label,
            data,
            required=("key", "name", "tier", "region", "type", "country"),
            optional=("status", "contact_block", "primary_color", "secondary_color"),
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
            )
        )

    def _user(self, label: str, data: Any) -> None:
        entry = _Entry(
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
        if organization is not None and organization not in self.org_keys:
            self.org_refs.setdefault(organization, []).append((label, "organization"))
        profile: dict[str, str] = {}
        for name in ("first_name", "last_name"):
            value = entry.text(name, blank=True, max_length=150)
            if value is not None:
                profile[name] = value
        language = entry.choice("preferred_language", [code for code, _ in settings.LANGUAGES])
        if language is not None:
            profile["preferred_language"] = language
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
            UserSpec(label, email.lower(), password, organization, role, staff_role, profile)
        )

    # items ----------------------------------------------------------------------------------

    def _item(self, label: str, data: Any) -> None:
        entry = _Entry(
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
            ),
        )
        key = entry.key("key", pattern=ITEM_KEY_RE, max_length=120)
        kind = entry.choice("kind", MODEL_BY_CONTENT_KIND, required=True)
        title = entry.text("title", required=True, max_length=255)
        body = entry.text("body", default="", blank=True)
        summary = entry.text("summary", default="", blank=True)
        locale = entry.choice("locale", self.content_languages, default=settings.LANGUAGE_CODE)
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
        files = self._files(entry, locale)
        tags = self._tags(entry)
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
            )
        )

    def _tags(self, item: _Entry) -> list[str]:
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

    def _audience(self, item: _Entry) -> AudienceSpec:
        data = item.data.get("audience")
        if data is None:
            return AudienceSpec()
        entry = _Entry(
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

    def _files(self, item: _Entry, locale: str) -> list[FileSpec]:
        data = item.data.get("files")
        if data is None:
            return []
        if not isinstance(data, list):
            raise item.fail("files", f"must be a list, not {_json_type(data)}")
        specs: list[FileSpec] = []
        titles: set[str] = set()
        for index, file_data in enumerate(data):
            label = f"{item.label}: {_entry_label('files', index, file_data, 'name')}"
            entry = _Entry(
                label,
                file_data,
                required=("name", "content_base64"),
                optional=("language", "title"),
            )
            name = _validate_file_name(entry)
            encoded = entry.text("content_base64", required=True, blank=True)
            try:
                # validate=True: a stray character is a damaged bundle, not something to skip.
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise entry.fail("content_base64", f"is not valid base64 ({exc})") from exc
            if not content:
                raise entry.fail("content_base64", "is empty")
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
            specs.append(FileSpec(name=name, content=content, language=language, title=title))
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
        wanted = set(items) | {spec.parent for spec in self.plan.items if spec.parent}
        existing = {
            row.key: row.page
            for row in ItemKey.objects.filter(key__in=wanted).select_related("page__locale")
        }
        for spec in self.plan.items:
            page = existing.get(spec.key)
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

    def _item_order(self, items: dict[str, ItemSpec], existing: dict[str, Page]) -> list[ItemSpec]:
        """Bundle items sorted so every item comes after the bundle items it will sit under.

        An item may sit under an already-imported item that is itself below another bundle item
        (A > C > P in the tree, the bundle moves A under P): walking P's real ancestors finds the
        nearest bundle item, so C moves first and A under its own descendant is a cycle.
        """
        page_to_key = {existing[key].pk: key for key in items if key in existing}
        depends: dict[str, str | None] = {}
        for spec in items.values():
            if spec.parent is None:
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
        # Items are few (hundreds); a repeated scan keeps the bundle's order among siblings.
        while pending:
            ready = [s for s in pending if depends[s.key] is None or depends[s.key] in placed]
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


# --- import ---------------------------------------------------------------------------------


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
        """``{"items": {key: {"url": ..., "files": [...]}}}`` with absolute URLs.

        File URLs point at the permission-checked download view, never at raw media.
        """
        root_url = Site.objects.get(is_default_site=True).root_url
        return {
            "items": {
                key: {
                    "url": item.page.get_full_url(),
                    "files": [
                        root_url + reverse("kb:download", args=[item.page.pk, doc.pk, doc.filename])
                        for doc in item.documents
                    ],
                }
                for key, item in self.items.items()
            }
        }

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

    def _save(self, obj, label: str) -> None:
        try:
            obj.full_clean()
            obj.save()
        except ValidationError as exc:
            raise BundleError(f"{label}: {'; '.join(exc.messages)}") from exc

    def _tiers(self) -> None:
        existing = {t.key: t for t in Tier.objects.all()}
        # Ranks are unique: moving ranks around (gold 2→1, silver 1→2) would collide half-way,
        # so tiers whose rank changes first step aside above every rank in use.
        top = max([t.rank for t in existing.values()] + [s.rank for s in self.plan.tiers] + [0])
        for offset, spec in enumerate(self.plan.tiers, start=1):
            tier = existing.get(spec.key)
            if tier is not None and tier.rank != spec.rank:
                tier.rank = top + offset
                tier.save(update_fields=["rank"])
                self.recompute = True
        for spec in self.plan.tiers:
            tier = existing.get(spec.key) or Tier(key=spec.key)
            self.result.count("tiers", created=tier.pk is None)
            tier.name, tier.rank = spec.name, spec.rank
            self._save(tier, spec.label)
            self.tiers[spec.key] = tier

    def _regions(self) -> None:
        existing = {r.key: r for r in Region.objects.all()}
        # Two passes: a region's parent may come later in the bundle (or be re-parented).
        for spec in self.plan.regions:
            region = existing.get(spec.key) or Region(key=spec.key)
            self.result.count("regions", created=region.pk is None)
            region.name = spec.name
            self._save(region, spec.label)
            existing[spec.key] = region
        for spec in self.plan.regions:
            if not spec.parent_given:
                continue
            region = existing[spec.key]
            parent_id = existing[spec.parent].pk if spec.parent else None
            if region.parent_id != parent_id:
                self.recompute = True
                region.parent_id = parent_id
                region.save(update_fields=["parent"])
        self.regions = existing

    def _partner_types(self) -> None:
        existing = {t.key: t for t in PartnerType.objects.all()}
        for spec in self.plan.partner_types:
            partner_type = existing.get(spec.key) or PartnerType(key=spec.key)
            self.result.count("partner_types", created=partner_type.pk is None)
            partner_type.name = spec.name
            self._save(partner_type, spec.label)
            existing[spec.key] = partner_type
        self.types = existing

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
                    region=self.regions[spec.region],
                    partner_type=self.types[spec.partner_type],
                    country=spec.country,
                    # Without "status" a re-import must not re-activate a suspended partner.
                    status=spec.status
                    or (current.status if current else PartnerOrganization.Status.ACTIVE),
                    contact_block=spec.contact_block,
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
            try:
                user_upsert(
                    email=current.email if current else spec.email,
                    password=spec.password,
                    organization=self._org(spec.organization) if spec.organization else None,
                    role=spec.role,
                    staff_role=spec.staff_role,
                    **profile,
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
                    stored=self.stored,
                )
            except ValidationError as exc:
                raise BundleError(f"{spec.label}: {'; '.join(exc.messages)}") from exc
            except (ValueError, DatabaseError) as exc:
                raise BundleError(f"{spec.label}: {exc}") from exc
            documents = [
                a.document
                for a in page.attachments.select_related("document").order_by("sort_order")
            ]
            self.result.items[spec.key] = ImportedItem(spec.key, page, documents)
            self.result.count("items", created=created)
            self.progress(f"{'created' if created else 'updated'} item {spec.key}")

    def _region(self, key: str) -> Region:
        return self.regions[key]

    def _type(self, key: str) -> PartnerType:
        return self.types[key]


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
    own = StoredFiles(journal=ImportJournal.open())
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
        settled = exc.settled = _settle(own.journal)
        # A new file that is still referenced proves the commit (the flag may miss it by a
        # few instructions when the signal lands right after COMMIT).
        exc.import_committed = bool(committed) or bool(
            settled and set(own.paths) & set(settled.kept)
        )
        raise
    _settle(own.journal)
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
