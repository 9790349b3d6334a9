"""The search outbox: rows written in the change's own transaction, drained after the commit,
kept with a backoff when the index write fails, applied by a later drain."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from kb.tests.factories import make_item
from search.backends import get_search_backend
from search.backends.base import SearchFilter, SearchQuery
from search.models import IndexOutbox, SearchChainNode, SearchEntry, SearchTerm, SearchText
from search.outbox import outbox_drain
from tests.fixtures import racing

pytestmark = pytest.mark.django_db
STAFF = SearchFilter(scope="all")


def _found(text):
    return set(get_search_backend().search(SearchQuery(text, STAFF)).ids)


def _rows(page_id=None):
    rows = IndexOutbox.objects.all()
    if page_id is not None:
        rows = rows.filter(page_id=page_id)
    return list(rows.values_list("kind", "page_id"))


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr("search.outbox.time.sleep", lambda s: None)


def test_the_row_is_part_of_the_transaction(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = make_item(key="a", title="Walrus handbook")
        assert _rows(item.pk) == [("subtree", item.pk)]
        # A rolled-back change leaves no row, and a row written inside a savepoint that
        # rolled back is written again by the next change of that page.
        try:
            with transaction.atomic():
                other = make_item(key="b", title="Narwhal handbook")
                assert _rows(other.pk) == [("subtree", other.pk)]
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert _rows(other.pk) == []
        item.title = "Walrus handbook, second edition"
        item.save_revision().publish()
        assert ("subtree", item.pk) in _rows(item.pk)
    # Nothing ran the callbacks: nothing is indexed, everything is still owed.
    assert _found("walrus") == set()


def test_repeats_in_one_transaction_write_one_row(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = make_item(key="a", title="Walrus handbook")
        for edition in range(5):
            item.title = f"Walrus handbook {edition}"
            item.save_revision().publish()
    assert _rows(item.pk) == [("subtree", item.pk)]


def test_the_drain_applies_and_deletes_after_the_commit(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        item = make_item(key="a", title="Walrus handbook")
    assert callbacks, "the change registered its drain"
    assert _found("walrus") == {item.pk}
    assert _rows() == []


def test_rows_left_by_a_process_that_died_are_applied_by_the_drain_command(
    portal, django_capture_on_commit_callbacks
):
    # The callbacks never run: as if the process died between its commit and its enqueue.
    with django_capture_on_commit_callbacks(execute=False):
        item = make_item(key="a", title="Walrus handbook")
    assert _found("walrus") == set()
    out = io.StringIO()
    call_command("drain_search_outbox", stdout=out)
    assert _found("walrus") == {item.pk}
    assert _rows() == []
    assert "0 waiting" in out.getvalue()


def test_a_failed_write_stays_with_a_backoff_and_a_later_drain_applies_it(
    portal, django_capture_on_commit_callbacks, monkeypatch, no_sleep
):
    from search.backends.database import SearchBackend

    original = SearchBackend.bulk

    def down(self, docs):
        raise RuntimeError("index down")

    monkeypatch.setattr(SearchBackend, "bulk", down)
    with django_capture_on_commit_callbacks(execute=True):
        item = make_item(key="a", title="Walrus handbook")
    assert item.live  # the change itself committed
    row = IndexOutbox.objects.get(page_id=item.pk)
    assert row.attempts == 1 and "index down" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)

    monkeypatch.setattr(SearchBackend, "bulk", original)
    assert outbox_drain().applied == 0  # not due yet: the backoff holds
    IndexOutbox.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox_drain().applied >= 1
    assert _found("walrus") == {item.pk}
    assert _rows() == []


def test_a_second_failure_doubles_the_wait(portal, django_capture_on_commit_callbacks, no_sleep):
    with django_capture_on_commit_callbacks(execute=False):
        item = make_item(key="a", title="Walrus handbook")
    IndexOutbox.objects.update(attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1))

    from search.backends.database import SearchBackend

    def down(self, docs):
        raise RuntimeError("index down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SearchBackend, "bulk", down)
        assert outbox_drain().failed >= 1
    row = IndexOutbox.objects.get(page_id=item.pk)
    assert row.attempts == 2
    wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)


def test_one_bad_page_does_not_hold_back_the_others(
    portal, django_capture_on_commit_callbacks, monkeypatch, no_sleep
):
    with django_capture_on_commit_callbacks(execute=False):
        good = make_item(key="good", title="Walrus handbook")
        bad = make_item(key="bad", title="Narwhal handbook")
    from search import services

    original = services.index_subtrees

    def picky(root_ids, **kwargs):
        if bad.pk in root_ids:
            raise RuntimeError("this page breaks the document builder")
        return original(root_ids, **kwargs)

    monkeypatch.setattr(services, "index_subtrees", picky)
    report = outbox_drain()
    assert report.applied >= 1 and report.failed == 1
    assert _found("walrus") == {good.pk}
    assert _rows() == [("subtree", bad.pk)]


# --- several workers (PostgreSQL) ------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent drains (advisory lock): PostgreSQL"
)


def _index_state():
    """Everything the database index holds (entries, text, chains, vocabulary)."""
    return (
        list(SearchEntry.objects.order_by("id").values()),
        list(SearchText.objects.order_by("entry_id").values()),
        sorted(
            SearchChainNode.objects.values_list(
                "entry_id", "min_rank", "regions", "types", "granted"
            )
        ),
        list(SearchTerm.objects.order_by("term").values_list("term", flat=True)),
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_drains_racing_apply_each_row_once_and_leave_the_index_as_one_run(committed_portal):
    """Two workers draining the same outbox at once (and the same index task run twice) leave
    the index exactly as one run does: index writes are idempotent, drains take turns."""
    from search.services import index_subtrees

    library = make_item(key="race-sheet", title="Race Sheet").get_parent()
    make_item(key="race-guide", title="Race Guide")
    assert not IndexOutbox.objects.exists()  # drained at the commits (immediate backend)
    once = _index_state()
    assert [e["id"] for e in once[0]] and _found("race")

    IndexOutbox.objects.bulk_create(
        [IndexOutbox(kind=IndexOutbox.Kind.SUBTREE, page_id=library.pk) for _ in range(3)]
        + [IndexOutbox(kind=IndexOutbox.Kind.SUBTREE, page_id=e["id"]) for e in once[0]]
    )
    owed = IndexOutbox.objects.count()
    reports = racing(3, outbox_drain)
    assert sum(r.applied for r in reports) == owed and not any(r.failed for r in reports)
    assert not IndexOutbox.objects.exists()
    assert _index_state() == once

    # The same index task executed twice (a retried task, an old queued one) changes nothing.
    index_subtrees([library.pk])
    index_subtrees([library.pk])
    assert _index_state() == once
