"""Item tags: the model, kb.services.item_upsert and revisions (drafts keep their tags)."""

from __future__ import annotations

import pytest

from kb.models import PortalItemPage, ProductSheetPage
from kb.services import sorted_tag_names, tag_normalise
from kb.tests.factories import make_item

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


def test_library_listing_filters_by_tag_with_the_same_query_count(portal, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kb.services import library_for_locale
    from permissions.tests.factories import MembershipFactory

    tagged = [make_item(key=f"priced-{i}", tags=["pricing"]) for i in range(3)]
    others = [make_item(key=f"other-{i}", tags=["security"]) for i in range(2)]
    client.force_login(MembershipFactory().user)
    library = library_for_locale("en")
    client.get(library.url)  # warm per-process caches

    def get(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(library.url, params)
        assert response.status_code == 200
        return response.content.decode(), len(ctx.captured_queries)

    html, plain_count = get({})
    assert all(f'href="{p.url}"' in html for p in tagged + others)
    html, tag_count = get({"tag": "pricing"})
    assert ">3 items<" in html
    assert all(f'href="{p.url}"' in html for p in tagged)
    assert not any(f'href="{p.url}"' in html for p in others)
    assert '<option value="pricing" selected>' in html  # kept when other filters are applied
    assert tag_count == plain_count
    html, _count = get({"tag": "nothing-here"})
    assert ">0 items<" in html


def test_a_normalised_tag_is_its_own_slug(portal):
    from taggit.models import Tag

    make_item(key="cz", tags=["Brožura", "q4-2026"])
    assert sorted(Tag.objects.values_list("name", "slug")) == [
        ("brožura", "brožura"),
        ("q4-2026", "q4-2026"),
    ]


def _asset_form(page, **fields):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    data = {
        "title": page.title,
        "slug": page.slug,
        "summary": "",
        "body": rich_text(""),
        "asset_kind": "brochure",
        "co_brandable": "on",
        "attachments": inline_formset([]),
        **fields,
    }
    return nested_form_data(data)


def test_admin_draft_keeps_tags_out_of_the_index_until_published(
    client, portal, django_capture_on_commit_callbacks
):
    from accounts.models import User
    from search.backends import get_search_backend
    from search.backends.base import SearchFilter, SearchQuery

    def found(text):
        query = SearchQuery(text, SearchFilter(scope="all"))
        return set(get_search_backend().search(query).ids)

    client.force_login(User.objects.create_superuser(email="eva@vendor.example", password="x"))
    with django_capture_on_commit_callbacks(execute=True):
        item = make_item(key="kit", kind="marketing_asset", title="Walrus kit", tags=["arctic"])
    edit = f"/admin/pages/{item.pk}/edit/"
    assert 'name="tags"' in client.get(edit).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit, _asset_form(item, tags="arctic, embargoed"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _live_tags(item) == ["arctic"]
    assert found("arctic") == {item.pk}  # the index is in step with the live page
    assert found("embargoed") == set()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit, _asset_form(item, tags="arctic, embargoed", **{"action-publish": "publish"})
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _live_tags(item) == ["arctic", "embargoed"]
    assert found("embargoed") == {item.pk}
