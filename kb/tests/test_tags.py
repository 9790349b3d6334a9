"""Item tags: the model, kb.services.item_upsert and revisions (drafts keep their tags)."""

from __future__ import annotations

import pytest

from kb.models import PortalItemPage, ProductSheetPage
from kb.services import sorted_tag_names, tag_normalise
from tests.factories import make_item

pytestmark = pytest.mark.django_db


def _live_tags(page) -> list[str]:
    return sorted_tag_names(PortalItemPage.objects.get(pk=page.pk))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pricing", "pricing"), ("  Q4-2026 ", "q4-2026"), ("Schulung", "schulung"), ("čr", "čr")],
)
def test_tag_normalise_accepts_slugs(value, expected):
    assert tag_normalise(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("q4 2026", 'e.g. "q4-2026"'),
        ("a|b", "single hyphens"),
        ("-pricing", "single hyphens"),
        ("a--b", "single hyphens"),
        ("snake_case", "single hyphens"),
        ("x" * 101, "longer than 100"),
    ],
)
def test_tag_normalise_refuses(value, message):
    with pytest.raises(ValueError, match=message):
        tag_normalise(value)


def test_upsert_sets_replaces_and_keeps_tags(portal):
    item = make_item(key="sheet", tags=["Pricing", "datasheet", "pricing"])
    assert _live_tags(item) == ["datasheet", "pricing"]
    revision = item.latest_revision.as_object()
    assert sorted(t.name for t in revision.tags.all()) == ["datasheet", "pricing"]

    make_item(key="sheet", tags=["security"])
    assert _live_tags(item) == ["security"]
    make_item(key="sheet")  # tags=None: unchanged
    assert _live_tags(item) == ["security"]
    make_item(key="sheet", tags=[])
    assert _live_tags(item) == []


def test_upsert_refuses_a_bad_tag(portal):
    with pytest.raises(ValueError, match="single hyphens"):
        make_item(key="sheet", tags=["ok", "not ok!"])


def test_tags_are_shared_case_insensitively(portal):
    from taggit.models import Tag

    make_item(key="a", tags=["pricing"])
    make_item(key="b", tags=["Pricing"])
    assert list(Tag.objects.values_list("name", flat=True)) == ["pricing"]


def test_draft_tags_stay_in_the_revision_until_published(portal):
    item = make_item(key="sheet", tags=["datasheet"])
    page = ProductSheetPage.objects.get(pk=item.pk)
    page.tags.set(["datasheet", "embargoed"])
    revision = page.save_revision()  # a draft, as the editor's "Save draft"
    assert _live_tags(item) == ["datasheet"]
    assert sorted(t.name for t in revision.as_object().tags.all()) == ["datasheet", "embargoed"]
    revision.publish()
    assert _live_tags(item) == ["datasheet", "embargoed"]


def test_tags_are_in_the_editors_content_panels(portal):
    for model in (ProductSheetPage,):
        form_class = model.get_edit_handler().get_form_class()
        assert "tags" in form_class.base_fields
