"""import_bundle: the documented example imports, re-imports are idempotent, and a bad bundle (or
a failure half-way through) leaves the database and media storage exactly as they were."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from taggit.models import Tag
from wagtail.models import Page, Site

from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from imports import importer
from imports.importer import bundle_import
from imports.parsing import BundleError
from kb.models import ItemAttachment, ItemKey, PortalHomePage, PortalItemTag, Product
from kb.services import sorted_tag_names
from kb.tests.factories import make_item
from permissions.models import Membership, PartnerOrganization, PartnerType, Region, Tier
from permissions.policies.pages import page_policy
from permissions.tests.factories import TierFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "bundle.json"
PDF_A = make_pdf_bytes("first file")
PDF_B = make_pdf_bytes("second file")


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def run(tmp_path: Path, bundle: dict, *args: str, **kwargs) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    out = io.StringIO()
    call_command("import_bundle", str(path), *args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def snapshot() -> dict:
    models = (
        Page,
        PortalDocument,
        ItemAttachment,
        ItemKey,
        Product,
        PartnerOrganization,
        Membership,
        get_user_model(),
        Tier,
        Region,
        PartnerType,
        PortalItemTag,
        Tag,
    )
    state: dict = {m.__name__: m.objects.count() for m in models}
    state["titles"] = sorted(Page.objects.values_list("title", flat=True))
    state["tier_ranks"] = sorted(Tier.objects.values_list("key", "rank"))
    state["media"] = media_files()
    return state


def small_bundle() -> dict:
    """A valid bundle whose first item has a file: a naive importer would write it first."""
    return {
        "tiers": [{"key": "gold", "name": "Gold", "rank": 2}],
        "regions": [{"key": "emea", "name": "EMEA"}],
        "partner_types": [{"key": "reseller", "name": "Reseller"}],
        "organizations": [
            {
                "key": "acme",
                "name": "Acme GmbH",
                "tier": "gold",
                "region": "emea",
                "type": "reseller",
                "country": "DE",
            }
        ],
        "users": [
            {
                "email": "anna@acme.example",
                "password": "Acme-Portal-2026!",
                "organization": "acme",
                "role": "admin",
            }
        ],
        "items": [
            {
                "key": "first",
                "kind": "product_sheet",
                "title": "First",
                "locale": "en",
                "audience": {"min_tier": "gold"},
                "files": [{"name": "first.pdf", "content_base64": b64(PDF_A)}],
            }
        ],
    }


# --- happy path --------------------------------------------------------------------------------


def test_example_bundle_imports_and_links_resolve(portal, tmp_path, client):
    bundle = example()
    out = run(tmp_path, bundle, "--json", verbosity=2)

    payload = json.loads(out)  # stdout holds exactly one JSON object, progress went to stderr
    assert list(payload) == ["items"]
    assert list(payload["items"]) == [item["key"] for item in bundle["items"]]
    root_url = Site.objects.get(is_default_site=True).root_url
    for entry in payload["items"].values():
        # CLARIFICATIONS 11: the key set only ever grows (url, files; id and locale added;
        # file_versions by issue #12).
        assert set(entry) == {"url", "files", "id", "locale", "file_versions"}
        assert [f["url"] for f in entry["file_versions"]] == entry["files"]
        assert all(f["version"] == 1 for f in entry["file_versions"])
        page = Page.objects.get(pk=entry["id"])
        assert entry["locale"] == page.locale.language_code
        assert entry["url"].startswith(root_url + "/")
        assert all(url.startswith(root_url + "/portal/items/") for url in entry["files"])

    User = get_user_model()
    editor = User.objects.get(email="eva@vendor.example")
    assert editor.is_staff and editor.groups.filter(name="Editors").exists()
    assert not Membership.objects.filter(user=editor).exists()
    assert client.login(email="eva@vendor.example", password="Vendor-Editor-2026!")

    sheet = bundle["items"][0]
    original = base64.b64decode(sheet["files"][0]["content_base64"])
    [file_url] = payload["items"]["x1-sheet"]["files"]
    assert payload["items"]["x1-sheet"]["file_versions"][0]["version_label"] == "2026.1"
    response = client.get(file_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == original
    assert client.get(payload["items"]["x1-sheet"]["url"]).status_code == 200
    german = urlsplit(payload["items"]["x1-install-guide-de"]["url"]).path
    assert german.startswith("/de/") and client.get(german).status_code == 200

    client.logout()
    assert client.get(file_url).status_code != 200  # the download view is permission-checked

    # The child sits under its parent; grants and exceptions reached the policy.
    parent = ItemKey.objects.get(key="x1-sheet").page
    child = ItemKey.objects.get(key="x1-sheet-lte").page
    assert child.get_parent().pk == parent.pk
    anna = User.objects.get(email="anna@acme.example")
    nils = User.objects.get(email="nils@nordlicht.example")
    assert anna.membership.role == "admin" and anna.preferred_language == "de"
    assert page_policy.can_view(anna, parent)
    assert page_policy.can_view(nils, parent)  # silver, but granted
    brochure = ItemKey.objects.get(key="x1-brochure").page
    assert page_policy.can_view(anna, brochure)
    assert not page_policy.can_view(nils, brochure)  # silver would pass, but excepted
    for entry in bundle["items"]:  # tags reached the live page
        page = ItemKey.objects.get(key=entry["key"]).page.specific
        assert sorted_tag_names(page) == sorted(entry.get("tags", [])), entry["key"]


def test_reimport_updates_without_duplicates(portal, tmp_path):
    bundle = example()
    first = json.loads(run(tmp_path, bundle, "--json"))
    before = snapshot()

    changed = copy.deepcopy(bundle)
    changed["items"][0]["title"] = "X1 Router (2026)"
    changed["items"][0]["audience"] = {"min_tier": "silver", "regions": [], "partner_types": []}
    changed["tiers"][0]["name"] = "Registered partner"
    second = json.loads(run(tmp_path, changed, "--json"))

    after = snapshot()
    for name in ("Page", "PortalDocument", "ItemAttachment", "ItemKey", "Product"):
        assert after[name] == before[name], name
    for name in ("PortalItemTag", "Tag"):
        assert after[name] == before[name], name
    for name in ("PartnerOrganization", "Membership", "User", "Tier", "Region", "PartnerType"):
        assert after[name] == before[name], name
    assert after["media"] == before["media"]  # same bytes: the stored file is reused
    assert first["items"]["x1-sheet"]["files"] == second["items"]["x1-sheet"]["files"]

    page = ItemKey.objects.get(key="x1-sheet").page.specific
    assert page.title == "X1 Router (2026)" and page.live
    assert page.audience_min_tier.key == "silver"
    assert list(page.audience_regions.all()) == []
    assert Tier.objects.get(key="registered").name == "Registered partner"


def test_reimporting_unchanged_items_publishes_nothing(portal, tmp_path):
    # "Updated since you downloaded" compares last_published_at with the partner's download: a
    # nightly re-import of the same bundle must not make every item look updated.
    from wagtail.models import Revision

    bundle = example()
    run(tmp_path, bundle)
    items = {k.key: k.page.specific for k in ItemKey.objects.select_related("page")}
    published = {key: page.last_published_at for key, page in items.items()}
    revisions = Revision.objects.count()

    run(tmp_path, bundle)
    assert Revision.objects.count() == revisions
    for key, page in items.items():
        page.refresh_from_db()
        assert page.last_published_at == published[key], key

    changed = copy.deepcopy(bundle)
    changed["items"][0]["summary"] = "Now with a changed summary."
    run(tmp_path, changed)
    assert Revision.objects.count() == revisions + 1
    key = changed["items"][0]["key"]
    items[key].refresh_from_db()
    assert items[key].last_published_at > published[key]
    assert items[key].summary == "Now with a changed summary."

    # a changed file alone is a change too: one more revision, published with the new file
    changed["items"][0]["files"][0]["content_base64"] = b64(make_pdf_bytes("version two"))
    run(tmp_path, changed)
    assert Revision.objects.count() == revisions + 2
    page = ItemKey.objects.get(key=key).page.specific
    (attachment,) = page.attachments.select_related("document")
    assert (
        attachment.document.file_hash
        == hashlib.sha1(
            base64.b64decode(changed["items"][0]["files"][0]["content_base64"]),
            usedforsecurity=False,
        ).hexdigest()
    )
    assert not page.has_unpublished_changes


def test_stdin_and_human_summary(portal):
    out = io.StringIO()
    text = json.dumps(small_bundle())
    call_command("import_bundle", "-", stdin=io.StringIO(text), stdout=out)
    summary = out.getvalue()
    assert "items: 1 created, 0 updated" in summary
    assert "organizations: 1 created" in summary
    assert "files stored: 1" in summary


def test_missing_structure_is_created_inside_the_import(db, tmp_path):
    assert not PortalHomePage.objects.exists()
    payload = json.loads(run(tmp_path, small_bundle(), "--json"))
    root_url = Site.objects.get(is_default_site=True).root_url
    assert payload["items"]["first"]["url"].startswith(root_url)
    assert PortalHomePage.objects.count() == len(settings.WAGTAIL_CONTENT_LANGUAGES)


def test_swapped_tier_ranks_and_kept_fields_on_reimport(portal, tmp_path):
    bundle = small_bundle()
    bundle["tiers"].append({"key": "silver", "name": "Silver", "rank": 1})
    bundle["users"][0].update(first_name="Anna", time_zone="Europe/Berlin")
    run(tmp_path, bundle)
    PartnerOrganization.objects.filter(key="acme").update(status="suspended")

    bundle["tiers"] = [
        {"key": "gold", "name": "Gold", "rank": 1},
        {"key": "silver", "name": "Silver", "rank": 2},
    ]
    bundle["users"][0].pop("first_name")
    bundle["users"][0].pop("time_zone")
    run(tmp_path, bundle)

    assert dict(Tier.objects.values_list("key", "rank")) == {"gold": 1, "silver": 2}
    page = ItemKey.objects.get(key="first").page
    assert page.audience.own_min_rank == 1  # compiled audiences follow the new rank
    # Fields a bundle leaves out keep their value: no silent re-activation or profile reset.
    assert PartnerOrganization.objects.get(key="acme").status == "suspended"
    anna = get_user_model().objects.get(email="anna@acme.example")
    assert (anna.first_name, anna.time_zone) == ("Anna", "Europe/Berlin")


def test_a_users_language_in_any_case(portal, tmp_path):
    bundle = small_bundle()
    bundle["users"][0]["preferred_language"] = "pt-BR"
    run(tmp_path, bundle)
    anna = get_user_model().objects.get(email="anna@acme.example")
    assert anna.preferred_language == "pt-br"
    bundle["users"][0]["preferred_language"] = "tlh"
    with pytest.raises(CommandError, match='"tlh" is not one of en, de, fr'):
        run(tmp_path, bundle)


def test_region_moved_under_another_re_derives_compiled_audiences(portal, tmp_path):
    # An item for DACH below an item for EMEA reaches DACH's partners only while DACH sits in
    # EMEA: the region tree is part of every compiled audience.
    bundle = small_bundle()
    bundle["regions"] = [{"key": "dach", "name": "DACH"}, {"key": "emea", "name": "EMEA"}]
    bundle["organizations"][0]["region"] = "dach"
    bundle["items"][0]["audience"] = {"regions": ["emea"]}
    bundle["items"].append(
        {
            "key": "dach-only",
            "kind": "training_guide",
            "title": "DACH only",
            "parent": "first",
            "audience": {"regions": ["dach"]},
        }
    )
    run(tmp_path, bundle)
    anna = get_user_model().objects.get(email="anna@acme.example")
    child = ItemKey.objects.get(key="dach-only").page
    assert not page_policy.can_view(anna, child)

    # The parent comes after the region in the bundle: the importer sets it in a second round.
    bundle["regions"][0]["parent"] = "emea"
    assert "regions: 0 created, 2 updated" in run(tmp_path, bundle)
    assert Region.objects.get(key="dach").parent.key == "emea"
    anna = get_user_model().objects.get(email="anna@acme.example")  # (the principal is cached)
    assert page_policy.can_view(anna, ItemKey.objects.get(key="dach-only").page)
    assert page_policy.can_view(anna, ItemKey.objects.get(key="first").page)


def test_references_may_point_at_existing_rows(portal, tmp_path):
    TierFactory(key="platinum", rank=9)
    make_item(key="legacy-parent", title="Legacy parent")
    bundle = {
        "items": [
            {
                "key": "child",
                "kind": "training_guide",
                "title": "Child",
                "parent": "legacy-parent",
                "audience": {"min_tier": "platinum"},
            }
        ]
    }
    run(tmp_path, bundle)
    child = ItemKey.objects.get(key="child").page
    assert child.get_parent().pk == ItemKey.objects.get(key="legacy-parent").page.pk


def test_tags_are_normalised_replaced_and_reimported_idempotently(portal, tmp_path):
    bundle = small_bundle()
    bundle["items"][0]["tags"] = [" Pricing ", "datasheet", "pricing", "Q4-2026"]
    run(tmp_path, bundle)
    page = ItemKey.objects.get(key="first").page.specific
    assert sorted_tag_names(page) == ["datasheet", "pricing", "q4-2026"]
    revisions = page.revisions.count()
    before = snapshot()

    run(tmp_path, bundle)  # the same bundle again: nothing new
    assert snapshot() == before
    assert sorted_tag_names(page) == ["datasheet", "pricing", "q4-2026"]
    assert page.revisions.count() == revisions  # unchanged: not re-published

    bundle["items"][0]["tags"] = ["security"]
    run(tmp_path, bundle)
    assert sorted_tag_names(page.specific_class.objects.get(pk=page.pk)) == ["security"]
    del bundle["items"][0]["tags"]  # the bundle is the source of truth: absent = no tags
    run(tmp_path, bundle)
    assert sorted_tag_names(page.specific_class.objects.get(pk=page.pk)) == []
    assert PortalItemTag.objects.count() == 0


# --- malformed bundles ------------------------------------------------------------------------


def _append_item(**fields):
    def mutate(bundle):
        bundle["items"].append({"key": "bad", "kind": "product_sheet", "title": "Bad", **fields})

    return mutate


def _cycle(bundle):
    bundle["items"] += [
        {"key": "a", "kind": "product_sheet", "title": "A", "parent": "b"},
        {"key": "b", "kind": "product_sheet", "title": "B", "parent": "a"},
    ]


def _duplicate_item(bundle):
    bundle["items"].append({"key": "first", "kind": "training_guide", "title": "Again"})


def _user_with_both(bundle):
    bundle["users"].append(
        {"email": "eva@vendor.example", "organization": "acme", "staff_role": "editor"}
    )


def _region_cycle(bundle):
    bundle["regions"] += [
        {"key": "north", "name": "North", "parent": "south"},
        {"key": "south", "name": "South", "parent": "north"},
    ]


def _tier_rank(bundle):
    bundle["tiers"].append({"key": "platinum", "name": "Platinum", "rank": 2})


def _org(**fields):
    def mutate(bundle):
        bundle["organizations"].append({**bundle["organizations"][0], "key": "other", **fields})

    return mutate


def _section(bundle):
    bundle["products"] = []


MALFORMED = [
    ("unknown-item-field", _append_item(colour="red"), ['items[1] (key "bad")', '"colour"']),
    (
        "unknown-tier",
        _append_item(audience={"min_tier": "goldd"}),
        ['items[1] (key "bad")', 'unknown tier "goldd"'],
    ),
    ("parent-cycle", _cycle, ['items[1] (key "a")', "parent cycle a → b → a"]),
    ("self-parent", _append_item(parent="bad"), ['items[1] (key "bad")', "own parent"]),
    (
        "bad-base64",
        _append_item(files=[{"name": "b.pdf", "content_base64": b64(PDF_B)[:-3] + "!=="}]),
        ['items[1] (key "bad")', 'files[0] (name "b.pdf")', "not valid base64"],
    ),
    (
        "unknown-kind",
        _append_item(kind="brochure"),
        ['items[1] (key "bad")', 'kind: "brochure" is not one of'],
    ),
    (
        "parent-other-locale",
        _append_item(locale="de", parent="first"),
        ['items[1] (key "bad")', '"first" is in locale "en"'],
    ),
    ("duplicate-item-key", _duplicate_item, ['items[1] (key "first")', 'duplicate key "first"']),
    (
        "traversal-filename",
        _append_item(files=[{"name": "../x.pdf", "content_base64": b64(PDF_B)}]),
        ['items[1] (key "bad")', '"../x.pdf" must be a plain file name'],
    ),
    (
        "tag-with-space",
        _append_item(tags=["pricing", "q4 2026"]),
        ['items[1] (key "bad")', 'tags[1]: tag "q4 2026" must be letters and digits', "q4-2026"],
    ),
    ("tag-empty", _append_item(tags=["ok", " "]), ['items[1] (key "bad")', "tags[1]: a tag"]),
    (
        "tag-too-long",
        _append_item(tags=["x" * 101]),
        ['items[1] (key "bad")', "tags[0]: tag", "longer than 100 characters"],
    ),
    (
        "tag-not-a-string",
        _append_item(tags=["ok", 7]),
        ['items[1] (key "bad")', "tags[1]: must be a string, not"],
    ),
    ("tags-not-a-list", _append_item(tags="pricing"), ['items[1] (key "bad")', "tags: must be"]),
    (
        "user-org-and-staff",
        _user_with_both,
        ['users[1] (email "eva@vendor.example")', "both organization and staff_role"],
    ),
    # Checked here without the portal structure: validation fails before anything is written,
    # and the structure (created by the import when missing) must not appear either.
]
MORE_MALFORMED = [
    ("unknown-parent", _append_item(parent="nowhere"), ['unknown item "nowhere"']),
    ("unknown-grant", _append_item(grants=["nobody"]), ['unknown organisation "nobody"']),
    ("region-cycle", _region_cycle, ['regions[1] (key "north")', "parent cycle"]),
    ("duplicate-rank", _tier_rank, ['tiers[1] (key "platinum")', "rank 2"]),
    ("country", _org(country="DEU"), ['organizations[1] (key "other")', "two-letter"]),
    ("colour", _org(primary_color="red"), ['organizations[1] (key "other")', "#1f6feb"]),
    (
        "contact-email",
        _org(contact_email="not-an-address"),
        ['organizations[1] (key "other")', "contact_email", "not a valid e-mail"],
    ),
    ("unknown-section", _section, ['unknown section "products"']),
]


def _assert_rejected_without_changes(tmp_path, mutate, expected):
    bundle = small_bundle()
    mutate(bundle)
    before = snapshot()

    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, bundle, "--json")

    message = str(excinfo.value)
    for fragment in expected:
        assert fragment in message
    assert snapshot() == before


@pytest.mark.parametrize(
    ("mutate", "expected"), [pytest.param(m, e, id=name) for name, m, e in MALFORMED]
)
def test_malformed_bundle_changes_nothing(portal, tmp_path, mutate, expected):
    _assert_rejected_without_changes(tmp_path, mutate, expected)


@pytest.mark.parametrize(
    ("mutate", "expected"), [pytest.param(m, e, id=name) for name, m, e in MORE_MALFORMED]
)
def test_more_malformed_bundles_change_nothing(db, tmp_path, mutate, expected):
    _assert_rejected_without_changes(tmp_path, mutate, expected)


def test_invalid_json_is_reported(db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"items": [', encoding="utf-8")
    with pytest.raises(CommandError, match="invalid JSON at line 1"):
        call_command("import_bundle", str(path), stdout=io.StringIO())


def test_moving_an_item_under_its_own_descendant_is_a_cycle(portal, tmp_path):
    top = make_item(key="top")
    make_item(key="below", parent=top)
    before = snapshot()
    bundle = {"items": [{"key": "top", "kind": "product_sheet", "title": "Top", "parent": "below"}]}
    with pytest.raises(BundleError, match=r'items\[0\] \(key "top"\): parent cycle top → top'):
        bundle_import(data=bundle)
    assert snapshot() == before


# --- failure during the import itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("preexisting", "error", "raised"),
    [
        pytest.param(False, ValueError, CommandError, id="fresh"),
        pytest.param(True, ValueError, CommandError, id="update"),
        # An unexpected exception is not dressed up as a bundle error, but still cleans up.
        pytest.param(False, RuntimeError, RuntimeError, id="unexpected"),
    ],
)
def test_failure_mid_import_rolls_back_and_discards_files(
    portal, tmp_path, monkeypatch, preexisting, error, raised
):
    bundle = small_bundle()
    bundle["items"].append(
        {
            "key": "second",
            "kind": "marketing_asset",
            "title": "Second",
            "files": [{"name": "second.pdf", "content_base64": b64(PDF_B)}],
        }
    )
    if preexisting:
        run(tmp_path, bundle)
        # New bytes for the first item's file: the failing re-import writes a new file first.
        bundle["items"][0]["title"] = "First, renamed"
        bundle["items"][0]["files"][0]["content_base64"] = b64(PDF_A + b"% v2\n")
    before = snapshot()

    original = importer.item_upsert
    written: list[str] = []

    def flaky_upsert(**kwargs):
        if kwargs["key"] == "second":
            raise error("storage exploded")
        page = original(**kwargs)
        written.extend(kwargs["stored"].paths)
        return page

    monkeypatch.setattr(importer, "item_upsert", flaky_upsert)
    with pytest.raises(raised, match="storage exploded") as excinfo:
        run(tmp_path, bundle, "--json")

    if raised is CommandError:
        assert 'items[1] (key "second")' in str(excinfo.value)
    assert written, "the first item must have written a file before the failure"
    assert not any(default_storage.exists(path) for path in written)
    assert snapshot() == before


def test_the_brand_kit_contact_fields_are_imported_and_bump_the_brand_kit_version(portal, tmp_path):
    from permissions.models import PartnerOrganization

    bundle = small_bundle()
    org = bundle["organizations"][0]
    run(tmp_path, bundle)
    version = PartnerOrganization.objects.get(key=org["key"]).brand_kit_version
    org.update(
        contact_name="Markus Weber",
        contact_phone="+49 30 1234 5678",
        contact_email="vertrieb@acme.example",
        contact_web="www.acme.example",
    )
    run(tmp_path, bundle)
    stored = PartnerOrganization.objects.get(key=org["key"])
    assert (
        stored.contact_name,
        stored.contact_phone,
        stored.contact_email,
        stored.contact_web,
    ) == (
        "Markus Weber",
        "+49 30 1234 5678",
        "vertrieb@acme.example",
        "www.acme.example",
    )
    assert stored.brand_kit_version == version + 1
    # Absent keys keep what is stored; an unchanged re-import bumps nothing.
    for key in ("contact_name", "contact_phone", "contact_email", "contact_web"):
        del org[key]
    run(tmp_path, bundle)
    again = PartnerOrganization.objects.get(key=org["key"])
    assert (again.contact_name, again.brand_kit_version) == ("Markus Weber", version + 1)
