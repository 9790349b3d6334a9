"""The database backend's bounded work: beyond PORTAL_SEARCH_EXACT_LIMIT visible matches it counts,
facets and ranks the most recently created ones plus every title/product match, and says so."""

from __future__ import annotations

import pytest

from kb.services import Audience
from kb.tests.factories import make_item
from permissions.policies.search import SearchFilter, search_filter_for
from permissions.tests.factories import MembershipFactory, TierFactory
from search.backends.base import SearchQuery
from search.backends.database import SearchBackend
from search.documents import iter_documents
from search.highlight import MARK_END, MARK_START

pytestmark = pytest.mark.django_db
STAFF = SearchFilter(scope="all")


@pytest.fixture(scope="module")
def item_ids(module_portal):
    """Built once per module (tests/fixtures.py, module_db); each test gets fresh objects."""
    # Created oldest first: the first one matches in its title, the others only in the text.
    made = [make_item(key="widget-manual", title="Widget manual", body="<p>Setup.</p>")]
    for i in range(6):
        made.append(
            make_item(
                key=f"note-{i}",
                kind="training_guide" if i % 2 else "product_sheet",
                title=f"Release note {i}",
                body="<p>The widget firmware changed.</p>",
            )
        )
    return [item.pk for item in made]


@pytest.fixture
def items(db, item_ids):
    from kb.models import PortalItemPage

    pages = PortalItemPage.objects.in_bulk(item_ids)
    return [pages[pk].specific for pk in item_ids]


def _backend(limit: int) -> SearchBackend:
    backend = SearchBackend({"EXACT_LIMIT": limit})
    backend.rebuild(iter_documents())
    return backend


def test_under_the_bound_everything_is_exact(items):
    result = _backend(10).search(SearchQuery("widget", STAFF))
    assert result.total_exact
    assert result.total == 7
    assert set(result.ids) == {item.pk for item in items}
    assert sum(result.facets["kind"].values()) == 7


def test_beyond_the_bound_counts_cover_the_newest_and_say_so(items):
    result = _backend(3).search(SearchQuery("widget", STAFF))
    assert not result.total_exact
    assert result.total == 3
    assert sum(result.facets["kind"].values()) == 3  # facets cover the same matches
    newest = {item.pk for item in items[-3:]}
    # the oldest item still competes because its title matches, and its title wins
    assert result.ids[0] == items[0].pk
    assert set(result.ids) == newest | {items[0].pk}


def test_beyond_the_bound_date_sort_is_the_newest_first(items):
    for i, item in enumerate(items):  # publish order decides, not creation order
        item.title = f"{item.title} v{i}"
        item.save_revision().publish()
    items[1].save_revision().publish()  # republished last: now the newest
    result = _backend(3).search(SearchQuery("widget", STAFF, sort="date"))
    assert not result.total_exact
    assert result.ids[0] == items[1].pk
    assert len(result.ids) == 3


def test_the_bound_applies_after_the_entitlement(portal):
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    visible = [make_item(key=f"open-{i}", body="<p>gadget</p>") for i in range(3)]
    for i in range(5):  # newer, but hidden from the member: they must not use up the bound
        make_item(key=f"gold-{i}", body="<p>gadget</p>", audience=Audience(min_tier=gold))
    result = _backend(3).search(SearchQuery("gadget", search_filter_for(member)))
    assert result.total_exact
    assert set(result.ids) == {item.pk for item in visible}


def test_beyond_the_bound_title_matches_still_obey_the_entitlement(portal):
    """The head index (titles, products, tags) joins the ranking only beyond the bound: an item
    whose title matches but that the member may not see must stay out of it too."""
    silver = TierFactory(key="silver", rank=1)
    gold = TierFactory(key="gold", rank=2)
    member = MembershipFactory(organization__tier=silver).user
    hidden = make_item(key="gizmo-secret", title="Gizmo secret", audience=Audience(min_tier=gold))
    shown = make_item(key="gizmo-guide", title="Gizmo guide")
    newest = [make_item(key=f"note-{i}", title=f"Note {i}", body="<p>gizmo</p>") for i in range(4)]
    result = _backend(3).search(SearchQuery("gizmo", search_filter_for(member)))
    assert not result.total_exact
    assert hidden.pk not in result.ids
    assert result.ids[0] == shown.pk  # the visible title match, older than the bound's three
    assert set(result.ids) == {shown.pk} | {item.pk for item in newest[-3:]}


def test_beyond_the_bound_a_page_of_title_matches_needs_no_body_ranking(items):
    backend = _backend(3)
    first = backend.search(SearchQuery("widget", STAFF, limit=1))
    assert first.ids == [items[0].pk]  # the title match fills the page
    second = backend.search(SearchQuery("widget", STAFF, offset=1, limit=2))
    # past the title matches the newest body matches follow, ranked
    assert set(second.ids) <= {item.pk for item in items[-3:]} and len(second.ids) == 2


def test_search_statements_leave_the_planner_settings_as_they_were(items):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    backend = _backend(3)
    query = (
        "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
        "current_setting('max_parallel_workers_per_gather')"
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        before = cursor.fetchone()
        backend.search(SearchQuery("widget", STAFF))
        backend.search(SearchQuery("widget", STAFF, sort="date"))
        cursor.execute(query)
        assert cursor.fetchone() == before


def test_a_rebuild_outside_a_transaction_vacuums_the_entries_on_postgresql():
    # The tsvector trigger leaves a dead row per entry and the GIN pending lists full; both
    # slow every later search until a vacuum (3-5x at 100k items). The rebuild runs in a thread
    # of its own: its connection is outside the test's transaction, like the command's (a
    # transactional test would flush the reused test database).
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's vacuum")
    query = (
        "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables "
        "WHERE relname = 'portal_search_searchentry'"
    )
    errors = []

    def rebuild():
        try:
            assert not connections["default"].in_atomic_block
            SearchBackend({}).rebuild([])  # the test database's index is empty between tests
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with connection.cursor() as cursor:
        cursor.execute(query)
        vacuums, analyzes = cursor.fetchone()
        thread = threading.Thread(target=rebuild)
        thread.start()
        thread.join()
        assert not errors
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # statistics are cached per transaction
        cursor.execute(query)
        assert cursor.fetchone() == (vacuums + 1, analyzes + 2)  # ANALYZE in, VACUUM ANALYZE after


def test_postgresql_highlights_follow_the_configs_lexemes(portal):
    # Highlights are computed in Python from PostgreSQL's own lexemes: English stems mark
    # "guide" and "Guides" for "guides"; a stop word in the query marks nothing.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's text search configs")
    item = make_item(
        key="guide",
        title="Guides for the uplink",
        body="<p>The guide explains each uplink. A guiding light.</p>",
    )
    backend = _backend(10)
    (hit,) = backend.search(SearchQuery("the guides", STAFF)).hits
    assert hit.id == item.pk
    marked = f"{MARK_START}Guides{MARK_END} for the uplink"
    assert hit.title_highlight == marked
    assert f"The {MARK_START}guide{MARK_END} explains" in hit.snippet
    assert f"{MARK_START}The{MARK_END}" not in hit.snippet
