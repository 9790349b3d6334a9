"""Bundles with translations ("translation_of" + "locale") and regional marketers ("locales"):
the happy path publishes real wagtail-localize translations, and every invalid combination is
refused whole, naming the entry, with the database unchanged."""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from wagtail.models import Locale, Page
from wagtail_localize.models import Translation

from imports.tests.test_bundles import run, small_bundle, snapshot
from kb.models import ItemKey
from kb.services import library_for_locale
from kb.tests.factories import make_item
from localization.selectors import marketer_locales
from localization.services import page_translation_create

SOURCE = {
    "key": "x1",
    "kind": "product_sheet",
    "title": "X1 datasheet",
    "summary": "A router.",
    "body": "First paragraph.\n\nSecond paragraph.",
}
CHILD = {"key": "x1-lte", "kind": "marketing_asset", "title": "X1 LTE brochure", "parent": "x1"}
CS = {
    "key": "x1-cs",
    "kind": "product_sheet",
    "title": "Datový list X1",
    "summary": "Router.",
    "translation_of": "x1",
    "locale": "CS",
}


def bundle(*items: dict, users: list | None = None) -> dict:
    data = small_bundle()
    data["items"] = [copy.deepcopy(item) for item in items]
    data["users"] = users or []
    return data


def test_translations_and_a_marketer_are_imported_published_and_printed(portal, tmp_path):
    de_child = {
        "key": "x1-lte-de",
        "kind": "marketing_asset",
        "title": "X1 LTE Broschüre",
        "translation_of": "x1-lte",
        "locale": "de",
    }
    de = {**CS, "key": "x1-de", "title": "X1 Datenblatt", "locale": "de"}
    narrowed = {**CS, "audience": {"min_tier": "gold", "regions": ["emea"]}}
    jiri = {
        "email": "jiri@vendor.example",
        "password": "Vendor-Marketer-2026!",
        "staff_role": "marketer",
        "locales": ["CS"],
    }
    # The child's translation comes first in the bundle: the import orders it after its parent's.
    data = bundle(de_child, SOURCE, CHILD, narrowed, de, users=[jiri])
    payload = json.loads(run(tmp_path, data, "--json"))["items"]

    assert list(payload) == ["x1-lte-de", "x1", "x1-lte", "x1-cs", "x1-de"]
    source = Page.objects.get(pk=payload["x1"]["id"])
    czech = Page.objects.get(pk=payload["x1-cs"]["id"]).specific
    assert (payload["x1"]["locale"], payload["x1-cs"]["locale"]) == ("en", "cs")
    assert czech.translation_key == source.translation_key
    assert czech.live and czech.title == "Datový list X1"  # imports publish (CLARIFICATIONS 1)
    assert "First paragraph." in czech.body  # not given: the source's text until translated
    assert czech.get_parent().pk == library_for_locale("cs").pk
    assert czech.audience_min_tier.key == "gold"
    assert [r.key for r in czech.audience_regions.all()] == ["emea"]
    assert Translation.objects.filter(target_locale__language_code="cs").exists()
    german_child = Page.objects.get(pk=payload["x1-lte-de"]["id"])
    assert german_child.get_parent().pk == payload["x1-de"]["id"]

    user = get_user_model().objects.get(email="jiri@vendor.example")
    assert [locale.language_code for locale in marketer_locales(user=user)] == ["cs"]

    # Re-import: same pages, and the marketer keeps his locales when the bundle names none.
    jiri.pop("locales")
    again = json.loads(run(tmp_path, bundle(SOURCE, narrowed, users=[jiri]), "--json"))["items"]
    assert again["x1-cs"]["id"] == payload["x1-cs"]["id"]
    assert [locale.language_code for locale in marketer_locales(user=user)] == ["cs"]


def test_a_translation_of_an_existing_item_and_an_admin_made_translation_adopted(portal, tmp_path):
    source = make_item(key="x1", title="X1 datasheet")
    made = page_translation_create(source=source, locale="cs", publish=True)

    payload = json.loads(run(tmp_path, bundle(CS), "--json"))["items"]

    assert payload["x1-cs"]["id"] == made.pk
    assert ItemKey.objects.get(key="x1-cs").page_id == made.pk
    made.refresh_from_db()
    assert made.title == "Datový list X1"


def _assert_refused(tmp_path, data, *fragments):
    before = snapshot()
    translations = Translation.objects.count()
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, data, "--json")
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot() == before
    assert Translation.objects.count() == translations


REFUSED = [
    (
        "translation-of-a-translation",
        [SOURCE, CS, {**CS, "key": "x1-de", "locale": "de", "translation_of": "x1-cs"}],
        ['items[2] (key "x1-de")', '"x1-cs" is itself a translation'],
    ),
    (
        "unknown-locale",
        [SOURCE, {**CS, "locale": "fr"}],
        ['items[1] (key "x1-cs")', 'unknown locale "fr"'],
    ),
    (
        "source-locale",
        [SOURCE, {**CS, "locale": "EN"}],
        ['items[1] (key "x1-cs")', '"en" is the locale of its source "x1"'],
    ),
    (
        "two-into-one-locale",
        [SOURCE, CS, {**CS, "key": "x1-cs-2", "locale": "cs"}],
        ['items[2] (key "x1-cs-2")', 'already translated into "cs" by item "x1-cs"'],
    ),
    (
        "grants",
        [SOURCE, {**CS, "grants": ["acme"]}],
        ['items[1] (key "x1-cs")', "grants: grants and exceptions are set on the source"],
    ),
    (
        "exceptions",
        [SOURCE, {**CS, "exceptions": ["acme"]}],
        ['items[1] (key "x1-cs")', "exceptions: grants and exceptions are set on the source"],
    ),
    (
        "parent",
        [SOURCE, {**CS, "parent": "x1"}],
        ['items[1] (key "x1-cs")', "parent: a translation has no parent of its own"],
    ),
    (
        "missing-source",
        [{**CS}],
        ['items[0] (key "x1-cs")', 'translation_of: unknown item "x1"'],
    ),
    (
        "parent-not-translated",
        [
            SOURCE,
            CHILD,
            {**CS, "key": "lte-cs", "kind": "marketing_asset", "translation_of": "x1-lte"},
        ],
        ['items[2] (key "lte-cs")', '(item "x1") has no translation in "cs"'],
    ),
    (
        "no-locale",
        [SOURCE, {k: v for k, v in CS.items() if k != "locale"}],
        ['items[1] (key "x1-cs")', "locale: a translation needs the locale"],
    ),
    (
        "other-kind",
        [SOURCE, {**CS, "kind": "training_guide"}],
        ['items[1] (key "x1-cs")', 'kind: "training_guide" but its source'],
    ),
    (
        "marketer-locales-on-editor",
        [SOURCE],
        ['users[0] (email "e@vendor.example")', 'locales: applies to staff_role "marketer"'],
    ),
    (
        "marketer-source-locale",
        [SOURCE],
        ['users[0] (email "m@vendor.example")', '"en" is the source locale'],
    ),
]
USERS = {
    "marketer-locales-on-editor": [
        {"email": "e@vendor.example", "staff_role": "editor", "locales": ["cs"]}
    ],
    "marketer-source-locale": [
        {"email": "m@vendor.example", "staff_role": "marketer", "locales": ["en"]}
    ],
}


@pytest.mark.parametrize(
    ("name", "items", "expected"), [pytest.param(n, i, e, id=n) for n, i, e in REFUSED]
)
def test_invalid_translations_are_refused_whole(portal, tmp_path, name, items, expected):
    # A valid item before the bad one: nothing of it may be written either.
    _assert_refused(tmp_path, bundle(*items, users=USERS.get(name)), *expected)


def test_refusals_against_the_database(portal, tmp_path):
    source = make_item(key="x1", title="X1 datasheet")
    german = page_translation_create(source=source, locale="de", publish=True)
    ItemKey.objects.create(key="x1-de", page=german)

    # A translation of an existing translation.
    _assert_refused(
        tmp_path,
        bundle({**CS, "translation_of": "x1-de"}),
        '"x1-de" is itself a translation',
    )
    # A second translation into a locale that already has one (under another key).
    _assert_refused(
        tmp_path,
        bundle({**CS, "key": "x1-de-2", "locale": "de"}),
        'already has its "de" translation, item "x1-de"',
    )
    # An existing translation re-imported as a standalone item.
    _assert_refused(
        tmp_path,
        bundle({"key": "x1-de", "kind": "product_sheet", "title": "X", "locale": "de"}),
        'items[0] (key "x1-de"): the item is a translation of "x1"',
    )
    # An existing source cannot become a translation of another item.
    make_item(key="other", title="Other")
    _assert_refused(
        tmp_path,
        bundle({**CS, "key": "other", "kind": "product_sheet"}),
        'the item exists and is not the "cs" translation of "x1"',
    )
    assert Locale.objects.filter(language_code="cs").exists()


def test_a_translations_files_are_localized_files_of_its_sources(portal, tmp_path):
    from imports.tests.test_bundles import PDF_A, PDF_B, b64

    source = {
        **SOURCE,
        "files": [{"name": "x1.pdf", "title": "X1 datasheet PDF", "content_base64": b64(PDF_A)}],
    }
    czech = {
        **CS,
        "files": [
            {
                "name": "x1-cs.pdf",
                "title": "Datový list X1 (PDF)",
                "content_base64": b64(PDF_B),
                "localizes": "X1 datasheet PDF",
            }
        ],
    }
    payload = json.loads(run(tmp_path, bundle(source, czech), "--json"))["items"]

    page = Page.objects.get(pk=payload["x1-cs"]["id"]).specific
    localized = page.attachments.get()
    assert localized.master.page_id == payload["x1"]["id"]
    assert localized.master_sha256 == localized.master.document.get_sha256()
    assert len(payload["x1-cs"]["files"]) == 1

    revisions = page.revisions.count()
    run(tmp_path, bundle(source, czech), "--json")  # unchanged: nothing new
    assert page.revisions.count() == revisions


LOCALIZES_REFUSED = [
    (
        {"localizes": "Nope"},
        'items[1] (key "x1-cs"): files: "c.pdf" localizes "Nope", which is not a file of "x1"',
    ),
    ({}, "a translation's file names the file of its source it localizes"),
]


@pytest.mark.parametrize(("extra", "expected"), LOCALIZES_REFUSED)
def test_a_translations_file_must_name_a_file_of_its_source(portal, tmp_path, extra, expected):
    from imports.tests.test_bundles import PDF_A, b64

    source = {**SOURCE, "files": [{"name": "x1.pdf", "content_base64": b64(PDF_A)}]}
    czech = {**CS, "files": [{"name": "c.pdf", "content_base64": b64(PDF_A), **extra}]}
    _assert_refused(tmp_path, bundle(source, czech), expected)


def test_localizes_only_on_a_translation(portal, tmp_path):
    from imports.tests.test_bundles import PDF_A, b64

    source = {
        **SOURCE,
        "files": [{"name": "x1.pdf", "content_base64": b64(PDF_A), "localizes": "x"}],
    }
    _assert_refused(tmp_path, bundle(source), "only a translation's files localize")
