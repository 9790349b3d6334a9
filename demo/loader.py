"""The demo's data, read from ``demo/data/*.json`` into the specs ``demo.builder`` seeds.

The files hold data only (each starts with a ``_comment`` describing its fields); this module
turns them into frozen dataclasses, strictly: an unknown field, a missing required field, an
unknown item kind or a key that refers to nothing (a tier, region, partner type, organisation,
item or user) raises :class:`DemoDataError` before anything is written to the database.

- ``taxonomy.json``: tiers, regions, partner types, product lines and their colours.
- ``organizations.json``, ``users.json``: partner organisations and the demo logins.
- ``sections.json``, ``items.json``: the English library's sections and every demo item with its
  texts (en/de/cs), audience, tags, attachments and history.
- ``downloads.json``: downloads recorded for the home page's feeds.

Texts that become rich text (an item's body, a product sheet's changelog) are stored as lines of
a tiny markup (see :func:`html`); everything else is stored as it is used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.html import escape

from permissions.models import Membership, PartnerOrganization

DATA_DIR = Path(__file__).with_name("data")

#: Item kinds (``ItemSpec.kind``).
PS, TG, MA = "product_sheet", "training_guide", "marketing_asset"
KINDS = (PS, TG, MA)


class DemoDataError(ValueError):
    """A demo data file does not match what the builder expects."""


# ============================================================================================
# Specs
# ============================================================================================


@dataclass(frozen=True)
class Taxonomy:
    #: (key, name, rank). Ranks leave gaps so an editor can slot a tier in between later.
    tiers: list[tuple[str, str, int]]
    #: (key, name, parent key). DACH sits under EMEA: EMEA items reach DACH partners, not vice
    #: versa.
    regions: list[tuple[str, str, str | None]]
    #: (key, name).
    partner_types: list[tuple[str, str]]
    #: Product lines and their brand colour (used for cover images and PDFs).
    products: dict[str, str]
    #: The colour of items without a product (partner programme material).
    programme_color: str


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    tier: str
    region: str
    partner_type: str
    country: str
    primary_color: str
    contact_block: str
    status: str = PartnerOrganization.Status.ACTIVE
    note: str = ""


@dataclass(frozen=True)
class UserSpec:
    email: str
    password: str
    first_name: str
    last_name: str
    language: str
    time_zone: str
    organization: str | None = None  # org key, for partner users
    role: str = Membership.Role.MEMBER
    staff_role: str | None = None  # "editor" / "moderator" / "marketer"
    superuser: bool = False
    #: A regional marketer's content locales (localization.services.marketer_set).
    locales: tuple[str, ...] = ()
    #: Demo item keys this login must see / must not see (checked by demo/tests/test_seed_demo.py).
    sees: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    #: The digest e-mail ("daily"/"weekly"), switched on for this login; None leaves it as is.
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Rule:
    """An item's or section's own audience, by taxonomy / organisation keys."""

    min_tier: str | None = None
    regions: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    public: bool = False
    grants: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()


ANYONE_SIGNED_IN = Rule()


@dataclass(frozen=True)
class SectionSpec:
    slug: str
    title: str
    intro: str
    rule: Rule = ANYONE_SIGNED_IN
    #: (language code, title) of the section's translations (where translated items go).
    translations: tuple[tuple[str, str], ...] = ()


#: The demo's editor and moderator (demo/data/users.json): they upload and approve the demo
#: files' later versions.
EDITOR_EMAIL = "eva@vendor.example"
APPROVER_EMAIL = "approver@vendor.example"


@dataclass(frozen=True)
class DocVersion:
    """A later version of a demo file (docs/file-versions.md): published ``days_ago`` (the
    item's revision that adopts it), or left pending in the item's workflow."""

    label: str
    notes: str
    days_ago: int = 0
    pending: bool = False


@dataclass(frozen=True)
class Doc:
    """A PDF generated with demo.assets.make_pdf."""

    title: str
    language: str = "en"
    pages: int = 2
    subtitle: str = ""
    #: On a translation: the title of the source's attachment this file is the localized file
    #: of, and whether it was made for the master's previous file (out of date).
    localizes: str | None = None
    out_of_date: bool = False
    #: Later versions of this file, oldest first (v2, v3 …).
    versions: tuple[DocVersion, ...] = ()


@dataclass(frozen=True)
class ItemSpec:
    key: str
    kind: str  # product_sheet / training_guide / marketing_asset
    title: str
    # "section:<slug>" (English library), "item:<key>", or "library:<language>"; None for a
    # translation, which sits under the translation of its source's parent.
    parent: str | None
    summary: str
    body: str
    product: str | None = None
    rule: Rule = ANYONE_SIGNED_IN
    attachments: tuple[Doc, ...] = ()
    extra: Mapping = field(default_factory=dict)
    #: A product sheet's versions, newest first: (label, "what changed" as rich text); the
    #: first is the current one (``extra``'s version_label and change_note).
    versions: tuple[tuple[str, str], ...] = ()
    # marketing assets
    asset_kind: str = ""
    master: Doc | None = None
    master_image_size: tuple[int, int] | None = None
    co_brandable: bool = True
    # history
    published_days_ago: int = 30
    updated_days_ago: int | None = None
    withdrawn: bool = False
    # translations (wagtail-localize): the source item's key and this copy's language
    translation_of: str | None = None
    locale: str | None = None
    #: A translation left in review: submitted to its locale's workflow by this marketer.
    in_review_by: str | None = None
    #: A translated product sheet: the translated "what changed" of its source's current
    #: version (rich text); None = the source's note.
    change_note: str | None = None

    @property
    def color(self) -> str:
        taxonomy = load_taxonomy()
        return taxonomy.products.get(self.product or "", taxonomy.programme_color)


#: (user e-mail, item key, attachment language or None for the master, days ago).
Download = tuple[str, str, str | None, int]

#: (item key, co-brand layout JSON of its PDF master: cobranding.engine.layout_to_json).
CobrandTemplateSpec = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class DemoData:
    taxonomy: Taxonomy
    organizations: list[OrgSpec]
    users: list[UserSpec]
    sections: list[SectionSpec]
    items: list[ItemSpec]
    #: Tags per item key (kb.services.tag_normalise form): what partners filter the search by.
    item_tags: dict[str, tuple[str, ...]]
    downloads: list[Download]
    #: Co-brand templates of PDF masters (demo/data/cobrand_templates.json).
    cobrand_templates: list[CobrandTemplateSpec] = field(default_factory=list)


# ============================================================================================
# Text helpers
# ============================================================================================


def html(text: str) -> str:
    """A tiny markup for the demo texts, one block per kind: a ``## `` line is a heading, a
    ``### `` line a sub-heading, consecutive ``- `` lines a list, other consecutive lines a
    paragraph (joined with spaces); a blank line ends a paragraph or list. A heading is one line
    of its own, so a list or paragraph right below it is a block of its own too (no blank line
    needed). Leading spaces are ignored."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{escape(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            flush()
        elif line.startswith(("## ", "### ")):
            flush()
            level = 3 if line.startswith("### ") else 2
            out.append(f"<h{level}>{escape(line[level + 1 :].strip())}</h{level}>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return "".join(out)


def sheet(version: str, specs: list[tuple[str, str]], changelog: str) -> dict:
    """A product sheet's extra fields: its current version's label and "what changed" note
    (the first ``### <label>`` section of ``changelog``; see :func:`sheet_versions`)."""
    versions = sheet_versions(changelog)
    return {
        "version_label": version,
        "specifications": [{"type": "spec", "value": {"name": n, "value": v}} for n, v in specs],
        "change_note": versions[0][1] if versions and versions[0][0] == version else "",
        "changelog": "",  # the history is recorded version by version (kb.ProductSheetVersion)
    }


def sheet_versions(changelog: str) -> list[tuple[str, str]]:
    """A sheet's versions, newest first: (label, note as rich text) per ``### <label>`` section
    of the demo markup ``changelog``."""
    versions: list[tuple[str, list[str]]] = []
    for line in changelog.splitlines():
        if line.strip().startswith("### "):
            versions.append((line.strip()[4:].strip(), []))
        elif versions:
            versions[-1][1].append(line)
    return [(label, html("\n".join(lines))) for label, lines in versions]


def guide(level: str, minutes: int, modules: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    """A training guide's extra fields."""
    return {
        "level": level,
        "duration_minutes": minutes,
        "modules": [
            {
                "type": "module",
                "value": {
                    "title": title,
                    "steps": [{"title": st, "body": sb} for st, sb in steps],
                },
            }
            for title, steps in modules
        ],
    }


# ============================================================================================
# Reading
# ============================================================================================


def read_json(name: str) -> dict[str, Any]:
    """One file of demo/data/ (its ``_comment`` removed)."""
    with (DATA_DIR / name).open(encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise DemoDataError(f"{name}: expected a JSON object")
    data.pop("_comment", None)
    return data


def _fields(obj: Any, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(obj, dict):
        raise DemoDataError(f"{where}: expected an object, got {obj!r}")
    missing = required - obj.keys()
    unknown = obj.keys() - required - optional
    if missing or unknown:
        raise DemoDataError(
            f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}"
            if missing and unknown
            else f"{where}: missing {sorted(missing)}"
            if missing
            else f"{where}: unknown {sorted(unknown)}"
        )
    return obj


def _lines(value: list[str], where: str) -> str:
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise DemoDataError(f"{where}: expected a list of lines")
    return "\n".join(value)


def _rule(obj: dict | None, where: str) -> Rule:
    if obj is None:
        return ANYONE_SIGNED_IN
    _fields(obj, where, set(), {"min_tier", "regions", "types", "public", "grants", "exceptions"})
    return Rule(
        min_tier=obj.get("min_tier"),
        regions=tuple(obj.get("regions", ())),
        types=tuple(obj.get("types", ())),
        public=obj.get("public", False),
        grants=tuple(obj.get("grants", ())),
        exceptions=tuple(obj.get("exceptions", ())),
    )


def _doc(obj: dict, where: str) -> Doc:
    fields = dict(
        _fields(
            obj,
            where,
            {"title"},
            {"language", "pages", "subtitle", "localizes", "out_of_date", "versions"},
        )
    )
    fields["versions"] = tuple(
        DocVersion(
            **_fields(v, f"{where}.versions[{i}]", {"label", "notes"}, {"days_ago", "pending"})
        )
        for i, v in enumerate(fields.get("versions", ()))
    )
    if sum(v.pending for v in fields["versions"]) > 1 or any(
        v.pending for v in fields["versions"][:-1]
    ):
        raise DemoDataError(f"{where}.versions: only the last version may be pending")
    return Doc(**fields)


def _extra(obj: dict | None, where: str) -> dict:
    if obj is None:
        return {}
    _fields(obj, where, set(), {"sheet", "guide"})
    if len(obj) != 1:
        raise DemoDataError(f"{where}: expected exactly one of 'sheet' or 'guide'")
    if "sheet" in obj:
        s = _fields(obj["sheet"], f"{where}.sheet", {"version", "specs", "changelog"})
        specs = [(name, value) for name, value in s["specs"]]
        changelog = _lines(s["changelog"], f"{where}.sheet.changelog")
        versions = sheet_versions(changelog)
        if not versions or versions[0][0] != s["version"]:
            raise DemoDataError(
                f"{where}.sheet.changelog: must start with '### {s['version']}' (the current "
                "version), then the earlier versions, newest first"
            )
        if len({label for label, _note in versions}) != len(versions):
            raise DemoDataError(f"{where}.sheet.changelog: a version label is used twice")
        return sheet(s["version"], specs, changelog)
    g = _fields(obj["guide"], f"{where}.guide", {"level", "minutes", "modules"})
    modules = []
    for n, module in enumerate(g["modules"]):
        m = _fields(module, f"{where}.guide.modules[{n}]", {"title", "steps"})
        steps = [
            (s["title"], s["body"])
            for s in (
                _fields(s, f"{where}.guide.modules[{n}].steps", {"title", "body"})
                for s in m["steps"]
            )
        ]
        modules.append((m["title"], steps))
    return guide(g["level"], g["minutes"], modules)


ITEM_FIELDS = {
    "product",
    "rule",
    "tags",
    "attachments",
    "extra",
    "asset_kind",
    "master",
    "master_image_size",
    "co_brandable",
    "published_days_ago",
    "updated_days_ago",
    "withdrawn",
    "parent",
    "translation_of",
    "locale",
    "in_review_by",
    "change_note",
}


def _item(obj: dict, n: int) -> tuple[ItemSpec, tuple[str, ...] | None]:
    where = f"items.json: items[{n}] ({obj.get('key')})"
    _fields(obj, where, {"key", "kind", "title", "summary", "body"}, ITEM_FIELDS)
    if obj["kind"] not in KINDS:
        raise DemoDataError(f"{where}: unknown kind {obj['kind']!r}")
    if ("parent" in obj) == ("translation_of" in obj):
        raise DemoDataError(f"{where}: needs exactly one of 'parent' or 'translation_of'")
    if ("translation_of" in obj) != ("locale" in obj):
        raise DemoDataError(f"{where}: 'translation_of' and 'locale' go together")
    if "in_review_by" in obj and "translation_of" not in obj:
        raise DemoDataError(f"{where}: only a translation is left in review")
    if "change_note" in obj and ("translation_of" not in obj or obj["kind"] != "product_sheet"):
        raise DemoDataError(
            f"{where}: change_note is a translated product sheet's (a source's is in its changelog)"
        )
    size = obj.get("master_image_size")
    spec = ItemSpec(
        key=obj["key"],
        kind=obj["kind"],
        title=obj["title"],
        parent=obj.get("parent"),
        summary=obj["summary"],
        body=html(_lines(obj["body"], f"{where}.body")),
        product=obj.get("product"),
        rule=_rule(obj.get("rule"), f"{where}.rule"),
        attachments=tuple(
            _doc(d, f"{where}.attachments[{i}]") for i, d in enumerate(obj.get("attachments", ()))
        ),
        extra=_extra(obj.get("extra"), f"{where}.extra"),
        versions=tuple(sheet_versions(_lines(obj["extra"]["sheet"]["changelog"], where)))
        if "sheet" in obj.get("extra", {})
        else (),
        asset_kind=obj.get("asset_kind", ""),
        master=_doc(obj["master"], f"{where}.master") if "master" in obj else None,
        master_image_size=(size[0], size[1]) if size is not None else None,
        co_brandable=obj.get("co_brandable", True),
        published_days_ago=obj.get("published_days_ago", 30),
        updated_days_ago=obj.get("updated_days_ago"),
        withdrawn=obj.get("withdrawn", False),
        translation_of=obj.get("translation_of"),
        locale=obj.get("locale"),
        in_review_by=obj.get("in_review_by"),
        change_note=html(_lines(obj["change_note"], f"{where}.change_note"))
        if "change_note" in obj
        else None,
    )
    tags = tuple(obj["tags"]) if "tags" in obj else None
    return spec, tags


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """The tiers, regions, partner types and product colours of ``taxonomy.json``."""
    data = read_json("taxonomy.json")
    _fields(
        data,
        "taxonomy.json",
        {"tiers", "regions", "partner_types", "products", "programme_color"},
    )
    return Taxonomy(
        tiers=[
            (t["key"], t["name"], t["rank"])
            for t in (
                _fields(t, "taxonomy.json: tiers", {"key", "name", "rank"}) for t in data["tiers"]
            )
        ],
        regions=[
            (r["key"], r["name"], r["parent"])
            for r in (
                _fields(r, "taxonomy.json: regions", {"key", "name", "parent"})
                for r in data["regions"]
            )
        ],
        partner_types=[
            (t["key"], t["name"])
            for t in (
                _fields(t, "taxonomy.json: partner_types", {"key", "name"})
                for t in data["partner_types"]
            )
        ],
        products=dict(data["products"]),
        programme_color=data["programme_color"],
    )


@lru_cache(maxsize=1)
def load_demo() -> DemoData:
    """Every demo data file as specs; raises :class:`DemoDataError` on a malformed file or a
    dangling reference. Cached: the files are read once per process."""
    organizations = [
        OrgSpec(
            **{
                **_fields(
                    o,
                    f"organizations.json: organizations[{n}]",
                    {"key", "name", "tier", "region", "partner_type", "country"}
                    | {"primary_color", "contact_block"},
                    {"status", "note"},
                ),
                "contact_block": _lines(o["contact_block"], f"organizations[{n}].contact_block"),
                "status": PartnerOrganization.Status(o.get("status", "active")),
            }
        )
        for n, o in enumerate(read_json("organizations.json")["organizations"])
    ]
    users = [
        UserSpec(
            **{
                **_fields(
                    u,
                    f"users.json: users[{n}]",
                    {"email", "password", "first_name", "last_name", "language", "time_zone"},
                    {"organization", "role", "staff_role", "superuser", "sees", "hidden"}
                    | {"locales", "digest"},
                ),
                "role": Membership.Role(u.get("role", "member")),
                "locales": tuple(u.get("locales", ())),
                "sees": tuple(u.get("sees", ())),
                "hidden": tuple(u.get("hidden", ())),
            }
        )
        for n, u in enumerate(read_json("users.json")["users"])
    ]
    sections = [
        SectionSpec(
            **{
                **_fields(
                    s,
                    f"sections.json: sections[{n}]",
                    {"slug", "title", "intro"},
                    {"rule", "translations"},
                ),
                "rule": _rule(s.get("rule"), f"sections.json: sections[{n}].rule"),
                "translations": tuple(sorted(s.get("translations", {}).items())),
            }
        )
        for n, s in enumerate(read_json("sections.json")["sections"])
    ]
    items, item_tags = [], {}
    for n, obj in enumerate(read_json("items.json")["items"]):
        spec, tags = _item(obj, n)
        items.append(spec)
        if tags is not None:
            item_tags[spec.key] = tags
    downloads: list[Download] = [
        (d["user"], d["item"], d["language"], d["days_ago"])
        for d in (
            _fields(d, "downloads.json: downloads", {"user", "item", "language", "days_ago"})
            for d in read_json("downloads.json")["downloads"]
        )
    ]
    cobrand_templates: list[CobrandTemplateSpec] = [
        (t["item"], t["layout"])
        for t in (
            _fields(t, "cobrand_templates.json: templates", {"item", "layout"})
            for t in read_json("cobrand_templates.json")["templates"]
        )
    ]
    data = DemoData(
        taxonomy=load_taxonomy(),
        organizations=organizations,
        users=users,
        sections=sections,
        items=items,
        item_tags=item_tags,
        downloads=downloads,
        cobrand_templates=cobrand_templates,
    )
    check_references(data)
    return data


def check_references(data: DemoData) -> None:
    """Raise :class:`DemoDataError` listing every key that refers to nothing."""
    tiers = {t[0] for t in data.taxonomy.tiers}
    regions = {r[0] for r in data.taxonomy.regions}
    types = {t[0] for t in data.taxonomy.partner_types}
    orgs = {o.key for o in data.organizations}
    items = {i.key for i in data.items}
    sections = {s.slug for s in data.sections}
    users = {u.email for u in data.users}
    problems: list[str] = []

    def check(where: str, kind: str, keys: object, known: set) -> None:
        for key in keys if isinstance(keys, tuple | list) else (keys,):
            if key is not None and key not in known:
                problems.append(f"{where}: unknown {kind} {key!r}")

    for r in data.taxonomy.regions:
        check(f"region {r[0]}", "parent region", r[2], regions)
    for o in data.organizations:
        check(f"organisation {o.key}", "tier", o.tier, tiers)
        check(f"organisation {o.key}", "region", o.region, regions)
        check(f"organisation {o.key}", "partner type", o.partner_type, types)
    for u in data.users:
        check(f"user {u.email}", "organisation", u.organization, orgs)
        check(f"user {u.email}", "item", u.sees + u.hidden, items)
    rules = [(f"section {s.slug}", s.rule) for s in data.sections]
    rules += [(f"item {i.key}", i.rule) for i in data.items]
    for where, rule in rules:
        check(where, "tier", rule.min_tier, tiers)
        check(where, "region", rule.regions, regions)
        check(where, "partner type", rule.types, types)
        check(where, "organisation", rule.grants + rule.exceptions, orgs)
    seen: set[str] = set()
    by_key = {i.key: i for i in data.items}
    users_by_email = {u.email: u for u in data.users}
    translated_sections = {(s.slug, code) for s in data.sections for code, _t in s.translations}
    for s in data.sections:
        for code, _title in s.translations:
            check(f"section {s.slug}", "translation locale", code, set(TRANSLATION_LOCALES))
    for u in data.users:
        if u.locales and u.staff_role != "marketer":
            problems.append(f"user {u.email}: locales are for marketers only")
        check(f"user {u.email}", "marketer locale", u.locales, set(TRANSLATION_LOCALES))
    translated: set[tuple[str, str]] = set()
    for i in data.items:
        if i.translation_of is not None:
            problems += _translation_problems(i, by_key, seen, translated, translated_sections)
            review = users_by_email.get(i.in_review_by) if i.in_review_by else None
            if i.in_review_by and (review is None or i.locale not in review.locales):
                problems.append(
                    f"item {i.key}: in_review_by {i.in_review_by!r} is not a marketer of "
                    f"{i.locale!r}"
                )
            translated.add((i.translation_of, i.locale or ""))
            seen.add(i.key)
            continue
        kind, _, name = (i.parent or "").partition(":")
        known = {"section": sections, "item": seen}.get(kind)
        if not name or (kind != "library" and (known is None or name not in known)):
            problems.append(
                f"item {i.key}: parent {i.parent!r} is not a section, an earlier item or a library"
            )
        check(f"item {i.key}", "product", i.product, set(data.taxonomy.products))
        seen.add(i.key)
    check("item_tags", "item", tuple(data.item_tags), items)
    for i in data.items:
        for doc in i.attachments:
            if (doc.localizes or doc.out_of_date) and i.translation_of is None:
                problems.append(f"item {i.key}: only a translation has localized files")
    for email, key, _language, _days in data.downloads:
        check("downloads", "user", email, users)
        check("downloads", "item", key, items)
    pdf_masters = {i.key for i in data.items if i.master is not None and i.co_brandable}
    for key, _layout in data.cobrand_templates:
        check("cobrand_templates", "co-brandable PDF master item", key, pdf_masters)
    if problems:
        raise DemoDataError("demo data: " + "; ".join(problems))


#: Languages items are translated into (the source language is English).
TRANSLATION_LOCALES = ("de", "cs")


def _translation_problems(
    item: ItemSpec,
    by_key: dict[str, ItemSpec],
    seen: set[str],
    translated: set[tuple[str, str]],
    translated_sections: set[tuple[str, str]],
) -> list[str]:
    """What is wrong with a translation item: its source must be an earlier English item, one
    translation per source and language, its source's parent translated, no grants/exceptions."""
    where = f"item {item.key}"
    source = by_key.get(item.translation_of or "")
    if source is None or item.translation_of not in seen:
        return [f"{where}: translation_of {item.translation_of!r} is not an earlier item"]
    problems = []
    if source.translation_of is not None or (source.parent or "").startswith("library:"):
        problems.append(f"{where}: its source {source.key} is not an English item")
    if item.locale not in TRANSLATION_LOCALES:
        problems.append(f"{where}: unknown translation locale {item.locale!r}")
    if (source.key, item.locale) in translated:
        problems.append(f"{where}: {source.key} already has a {item.locale} translation")
    if item.kind != source.kind:
        problems.append(f"{where}: kind {item.kind} differs from its source's")
    if item.rule.grants or item.rule.exceptions:
        problems.append(f"{where}: grants and exceptions are set on the source only")
    kind, _, name = (source.parent or "").partition(":")
    if kind == "section" and (name, item.locale) not in translated_sections:
        problems.append(f"{where}: section {name} has no {item.locale} translation")
    if kind == "item" and (name, item.locale) not in translated:
        problems.append(f"{where}: item {name} has no {item.locale} translation before it")
    titles = {doc.title for doc in source.attachments}
    for doc in item.attachments:
        if doc.localizes not in titles:
            problems.append(
                f"{where}: attachment {doc.title!r} localizes {doc.localizes!r}, which is not "
                f"an attachment of {source.key}"
            )
    return problems
