"""The index follows publish, unpublish, move, delete, audience, grant and exception changes."""

from __future__ import annotations

import pytest

from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from permissions.policies.search import search_filter_for
from permissions.services import audience_set_exceptions, audience_set_grants
from permissions.tests.factories import MembershipFactory, TierFactory
from search.backends import get_search_backend
from search.backends.base import SearchFilter, SearchQuery

pytestmark = pytest.mark.django_db
STAFF = SearchFilter(scope="all")


def _found(text, flt=STAFF):
    return set(get_search_backend().search(SearchQuery(text, flt)).ids)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_publish_unpublish_delete(portal, commit):
    with commit():
        item = make_item(key="a", title="Walrus handbook")
    assert _found("walrus") == {item.pk}
    with commit():
        item.title = "Narwhal handbook"
        item.save_revision().publish()
    assert _found("narwhal") == {item.pk} and _found("walrus") == set()
    with commit():
        item.unpublish()
    assert _found("narwhal") == set()
    with commit():
        item.save_revision().publish()
    assert _found("narwhal") == {item.pk}
    with commit():
        item.delete()
    assert _found("narwhal") == set()


def test_audience_grant_and_move_reindex_the_subtree(portal, commit):
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    org = member.membership.organization
    with commit():
        section = make_item(key="parent", title="Parent sheet")
        child = make_item(key="child", title="Walrus child", parent=section)
    flt = lambda: search_filter_for(type(member).objects.get(pk=member.pk))  # noqa: E731
    assert _found("walrus", flt()) == {child.pk}
    with commit():  # the parent's audience narrows: the child disappears for silver
        make_item(key="parent", title="Parent sheet", audience=Audience(min_tier=gold))
    assert _found("walrus", flt()) == set()
    with commit():  # a grant on the parent chain node opens it again
        audience_set_grants(page=section, organizations=[org])
    assert _found("walrus", flt()) == {child.pk}
    with commit():  # an exception on the parent closes everything below
        audience_set_exceptions(page=section, organizations=[org])
    assert _found("walrus", flt()) == set()
    with commit():
        audience_set_exceptions(page=section, organizations=[])
        child.specific.move(library_for_locale("en"), pos="last-child")
    assert _found("walrus", flt()) == {child.pk}


def test_tier_rank_change_reindexes_after_the_audiences_are_re_derived(portal, commit):
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    with commit():
        item = make_item(key="gold-only", title="Walrus gold", audience=Audience(min_tier=gold))
    flt = lambda: search_filter_for(type(member).objects.get(pk=member.pk))  # noqa: E731
    assert _found("walrus", flt()) == set()
    with commit():  # gold now ranks below silver: the permissions task re-derives, then search
        gold.rank = 0
        gold.save()
    assert _found("walrus", flt()) == {item.pk}


def test_indexing_failure_never_breaks_a_publish(portal, commit, monkeypatch, caplog):
    from search.backends.database import SearchBackend

    def boom(self, docs):
        raise RuntimeError("index down")

    monkeypatch.setattr(SearchBackend, "bulk", boom)
    monkeypatch.setattr("search.tasks.time.sleep", lambda s: None)
    with commit():
        item = make_item(key="a", title="Walrus handbook")
    assert item.live
    assert "gave up after 3 tries" in caplog.text


def test_a_product_translated_or_renamed_reindexes_its_items(portal, commit):
    from kb.services import product_ensure
    from kb.tests.test_snippets import product_translation

    with commit():
        x5 = product_ensure(name="X5 Switch")
        cs_item = make_item(
            key="cs-x5", title="Rollout", parent=library_for_locale("cs"), product=x5
        )
    assert _found("kompakt") == set()
    with commit():
        product_translation(x5, "cs", "Přepínač X5 Kompakt")
    assert _found("kompakt") == {cs_item.pk}
    with commit():
        x5.name = "X5 Campus Switch"
        x5.save()
    assert _found("campus") == {cs_item.pk}
