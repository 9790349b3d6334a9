"""Bundles may give a product sheet's ``version_label`` and ``change_note``: importing publishes
the sheet, so its version enters the sheet's history, under the admin form's rules."""

from __future__ import annotations

import pytest

from imports.importer import bundle_import
from imports.parsing import BundleError
from kb.models import ItemKey, ProductSheetVersion
from kb.services import _BLOCK_KEY

pytestmark = pytest.mark.django_db


def bundle(*items: dict) -> dict:
    return {"items": list(items)}


def sheet(**fields) -> dict:
    return {"key": "x1", "kind": "product_sheet", "title": "X1", "locale": "en", **fields}


def history(key="x1") -> list[tuple[str, str]]:
    page = ItemKey.objects.get(key=key).page
    rows = ProductSheetVersion.objects.filter(page_id=page.pk)
    return [(v.version_label, _BLOCK_KEY.sub("", v.note)) for v in rows]


def test_versions_from_bundles(portal):
    bundle_import(data=bundle(sheet(version_label="v1", change_note="First release.")))
    assert history() == [("v1", "<p>First release.</p>")]
    page = ItemKey.objects.get(key="x1").page
    revisions = page.revisions.count()
    bundle_import(data=bundle(sheet(version_label="v1", change_note="First release.")))
    assert len(history()) == 1
    assert page.revisions.count() == revisions  # unchanged: nothing published
    bundle_import(data=bundle(sheet(version_label="v2", change_note="<ul><li>New PoE</li></ul>")))
    assert [label for label, _note in history()] == ["v2", "v1"]
    assert "<li>New PoE</li>" in history()[0][1]
    bundle_import(data=bundle(sheet(title="X1 router")))  # no label: the sheet's stays
    assert [label for label, _note in history()] == ["v2", "v1"]

    with pytest.raises(BundleError, match="v1 was already published"):
        bundle_import(data=bundle(sheet(version_label="v1", change_note="Again")))
    with pytest.raises(BundleError, match="say what changed in version v3"):
        bundle_import(data=bundle(sheet(version_label="v3")))
    assert [label for label, _note in history()] == ["v2", "v1"]


def test_bundle_version_fields_are_checked(portal):
    guide = {"key": "g", "kind": "training_guide", "title": "G", "version_label": "v1"}
    with pytest.raises(BundleError, match="only a product sheet has versions"):
        bundle_import(data=bundle(guide))
    with pytest.raises(BundleError, match="needs the version_label"):
        bundle_import(data=bundle(sheet(change_note="What?")))


def test_a_translations_change_note_is_its_versions_note(portal):
    source = sheet(version_label="v1", change_note="First release.")
    czech = {
        "key": "x1-cs",
        "kind": "product_sheet",
        "title": "X1 (cs)",
        "locale": "cs",
        "translation_of": "x1",
        "change_note": "První vydání.",
    }
    bundle_import(data=bundle(source, czech))
    assert history("x1-cs") == [("v1", "<p>První vydání.</p>")]
    assert history("x1") == [("v1", "<p>First release.</p>")]
    with pytest.raises(BundleError, match="a translation has its source's version label"):
        bundle_import(data=bundle(source, {**czech, "version_label": "v1"}))
