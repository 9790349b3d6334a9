"""Item tags in the portal search: the indexed document, bounded queries, the publish signal,
the /search/ facet and the item page's tag links (database backend, the embedded default)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.models import PortalItemPage, ProductSheetPage
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory, TierFactory
from search.backends import get_search_backend
from search.backends.base import SearchFilter, SearchQuery
from search.documents import build_documents, iter_documents

pytestmark = pytest.mark.django_db
STAFF = SearchFilter(scope="all")


def _found(text, flt=STAFF, **filters):
    return set(get_search_backend().search(SearchQuery(text, flt, filters=filters)).ids)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(scope="module")
def world_ids(module_portal):
    """Built and indexed once per module (tests/fixtures.py, module_db); tests get fresh objects."""
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    items = {
        "sheet": make_item(key="sheet", title="Router datasheet", tags=["datasheet", "pricing"]),
        "guide": make_item(
            key="guide", kind="training_guide", title="Router onboarding", tags=["onboarding"]
        ),
        "secret": make_item(
            key="secret",
            title="Router price list",
            tags=["pricing"],
            audience=Audience(min_tier=gold),
        ),
        "plain": make_item(key="plain", title="Router brochure", kind="marketing_asset"),
    }
    get_search_backend().rebuild(iter_documents())
    return {"member": member.pk, "items": {key: item.pk for key, item in items.items()}}


@pytest.fixture
def world(db, world_ids):
    from accounts.models import User

    pages = PortalItemPage.objects.in_bulk(world_ids["items"].values())
    return {
        "member": User.objects.get(pk=world_ids["member"]),
        "items": {key: pages[pk].specific for key, pk in world_ids["items"].items()},
    }


def test_document_carries_the_live_tags(world):
    items = world["items"]
    docs = {d.id: d for d in iter_documents(with_files=False)}
    assert docs[items["sheet"].pk].tags == ["datasheet", "pricing"]
    assert docs[items["sheet"].pk].product == "datasheet pricing"
    assert docs[items["plain"].pk].tags == []
    assert docs[items["plain"].pk].product == ""


def test_editor_names_are_labels_and_slugs_are_values(world):
    plain = world["items"]["plain"]
    page = plain.specific_class.objects.get(pk=plain.pk)
    page.tags.set(["Q4 Launch"])  # typed in the admin: taggit slugs it
    page.save_revision().publish()
    (doc,) = build_documents([PortalItemPage.objects.get(pk=page.pk)], with_files=False)
    assert doc.tags == ["q4-launch"]
    assert doc.tag_text == "Q4 Launch"


def test_building_documents_reads_tags_in_one_query(portal):
    """Tags (and locales, products) are read once per batch, not once per item."""

    def queries_for_all():
        with CaptureQueriesContext(connection) as ctx:
            docs = list(iter_documents(with_files=False))
        assert all("common" in d.tags for d in docs)
        return len(docs), len(ctx.captured_queries)

    kinds = ["product_sheet", "training_guide"]  # .specific(): one query per kind present
    for i in range(2):
        make_item(key=f"item-{i}", kind=kinds[i % 2], tags=[f"tag-{i}", "common"])
    few = queries_for_all()
    for i in range(2, 8):
        make_item(key=f"item-{i}", kind=kinds[i % 2], tags=[f"tag-{i}", "common"])
    many = queries_for_all()
    assert (few[0], many[0]) == (2, 8)
    assert few[1] == many[1]


def test_publish_reindexes_tags_and_drafts_do_not_leak(portal, commit):
    with commit():
        item = make_item(key="a", title="Walrus handbook", tags=["arctic"])
    assert _found("walrus", tags=["arctic"]) == {item.pk}
    page = ProductSheetPage.objects.get(pk=item.pk)
    with commit():
        page.tags.set(["tundra"])
        revision = page.save_revision()  # a draft: the live page keeps "arctic"
    assert _found("walrus", tags=["tundra"]) == set()
    assert _found("tundra") == set()
    assert _found("walrus", tags=["arctic"]) == {item.pk}
    with commit():
        revision.publish()
    assert _found("walrus", tags=["tundra"]) == {item.pk}
    assert _found("tundra") == {item.pk}
    assert _found("walrus", tags=["arctic"]) == set()


def test_search_page_tag_facet_counts_only_visible_items(client, world):
    client.force_login(world["member"])
    html = client.get("/search/", {"q": "router"}).content.decode()
    assert "3 results" in html  # the gold price list is hidden
    assert "<summary>Tags</summary>" in html  # a collapsible facet
    assert 'tag=pricing">pricing</a> <span class="count">(1)</span>' in html
    assert 'tag=datasheet">datasheet</a> <span class="count">(1)</span>' in html
    assert 'tag=onboarding">onboarding</a> <span class="count">(1)</span>' in html
    filtered = client.get("/search/", {"q": "router", "tag": "pricing"}).content.decode()
    assert ">1 result<" in filtered
    assert f'href="{world["items"]["sheet"].url}"' in filtered
    assert "price list" not in filtered
    assert 'name="tag" value="pricing"' in filtered  # kept when searching again
    assert 'aria-current="true">pricing</a>' in filtered


def test_item_page_links_its_tags_to_the_search(client, world):
    client.force_login(world["member"])
    sheet = world["items"]["sheet"]
    html = client.get(sheet.url).content.decode()
    assert 'href="/search/?q=datasheet&amp;tag=datasheet" rel="tag">datasheet</a>' in html
    assert 'href="/search/?q=pricing&amp;tag=pricing" rel="tag">pricing</a>' in html
    # the link lists exactly the visible items with the tag
    results = client.get("/search/", {"q": "pricing", "tag": "pricing"}).content.decode()
    assert ">1 result<" in results and f'href="{sheet.url}"' in results
    plain = client.get(world["items"]["plain"].url).content.decode()
    assert 'class="tags"' not in plain
