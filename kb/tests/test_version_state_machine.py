"""State-machine test of file versions behind a stable URL (issue #12, deliverable 8).

Hypothesis drives random sequences of what editors and admins do to one file shared by two items
(docs/file-versions.md): upload a new version (sometimes a file the validation refuses), adopt a
version on one item and submit the page to its Wagtail workflow, approve or reject that workflow,
roll back to an older version (a new version with the old bytes) and adopt it, expire the
version an item serves (or schedule its expiry and let time pass), and delete a version (an
admin action, refused while an item's published state or latest revision uses it).

A plain-Python model says what every partner must get. After every step the REAL exits are
asked, as an entitled partner: the item's stable download URL (Django test client) and the
item's file list (``kb.selectors.item_files``). Invariants:

- each item has exactly one current approved version of the file, or none once it expired
  (then the URL answers 404 and the list does not show the file);
- a partner only ever receives the bytes of that version (SHA-256 of the response body); a
  pending, rejected or merely uploaded version is never served;
- the stable URL never changes;
- the history only grows, except by admin deletes; version numbers strictly increase (a number
  once given is never given to other bytes); a rollback holds the restored version's bytes;
- a refused upload leaves no row and no stored object;
- approval is per item: the second item keeps its own approved version.

Each example runs in a transaction rolled back at its end (on top of the test's own), so the
items built once per test start every example in the same state. Examples:
``HYPOTHESIS_PROFILE=ci`` runs many more (tests/fixtures.py).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from wagtail.models import Page, WorkflowState

from accounts.tests.factories import UserFactory
from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.validation import UploadRejected
from files.versions import document_version_add, document_version_rollback, document_versions
from kb.models import ItemAttachment, PortalItemPage
from kb.selectors import download_url, item_files
from kb.services import FileSpec, attachment_version_propose, document_version_delete
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ITEMS = ("a", "b")
# Files the upload checks refuse (files.validation): they must leave no trace.
REFUSED = (
    ("evil.pdf", b"<html><script>alert(1)</script></html>"),
    ("empty.pdf", b""),
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
)


@functools.cache
def pdf(n: int) -> bytes:
    """A small real PDF per content number (several versions may share bytes)."""
    return make_pdf_bytes(f"sheet content {n}")


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- the model ---------------------------------------------------------------------------------


@dataclass
class Version:
    pk: int
    number: int
    sha256: str
    filename: str
    rollback_of: int | None = None
    # Hours until expiry on the model's clock (None: never); expired when <= 0.
    hours_left: int | None = None

    @property
    def expired(self) -> bool:
        return self.hours_left is not None and self.hours_left <= 0


@dataclass
class ItemModel:
    published: int  # the version (pk) the item's published revision uses
    latest: int  # the version its latest revision uses (a draft's, else the published one)
    workflow: str = ""  # "", "in_progress" or "needs_changes"
    # Versions named by the revisions the tasks of its active workflow review (kept while the
    # workflow is active, even when a later draft adopts another version).
    reviewed: set[int] = field(default_factory=set)


@dataclass
class Model:
    versions: dict[int, Version] = field(default_factory=dict)  # the rows that exist
    items: dict[str, ItemModel] = field(default_factory=dict)
    highest_number: int = 1  # the highest version number ever given

    def served(self, item: str) -> Version | None:
        """What a partner must get at the item's stable URL: its approved version, unexpired."""
        version = self.versions[self.items[item].published]
        return None if version.expired else version

    def in_use(self, pk: int) -> bool:
        """May an admin NOT delete version ``pk`` (kb.services.document_version_delete)?"""
        return any(pk in (m.published, m.latest) or pk in m.reviewed for m in self.items.values())


# --- the world built once per test -------------------------------------------------------------


@dataclass
class World:
    items: dict[str, int]  # item name -> page pk
    urls: dict[str, str]  # item name -> its stable URL of the file
    lineage: int
    v1: int
    v1_sha: str
    v1_name: str
    partner: Any
    moderator: Any
    editor: Any


def build_world() -> World:
    first = make_item(
        key="sm-a",
        title="State machine A",
        files=[FileSpec(name="sheet.pdf", content=pdf(0), title="Datasheet")],
    )
    v1 = first.attachments.get().document
    # The second item uses the same file (the same version 1), approved on its own.
    second = make_item(key="sm-b", title="State machine B")
    second = PortalItemPage.objects.get(pk=second.pk).specific
    second.attachments.add(ItemAttachment(document=v1))
    second.save_revision().publish()
    partner = MembershipFactory().user
    moderator: Any = UserFactory(email="sm-moderator@vendor.example", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    editor = UserFactory(email="sm-editor@vendor.example", is_staff=True)
    pages = {"a": first, "b": second}
    return World(
        items={name: page.pk for name, page in pages.items()},
        urls={name: download_url(page, v1) for name, page in pages.items()},
        lineage=v1.lineage,
        v1=v1.pk,
        v1_sha=v1.sha256,
        v1_name=v1.filename,
        partner=partner,
        moderator=moderator,
        editor=editor,
    )


def stored_names(document: PortalDocument) -> set[str]:
    """The stored objects in the folder (bucket prefix) where the lineage's versions go."""
    storage = document.file.storage
    folder = document.file.name.rsplit("/", 1)[0]
    return set(storage.listdir(folder)[1])


# --- the machine --------------------------------------------------------------------------------


class VersionMachine(RuleBasedStateMachine):
    """Random editor and admin actions on one file shared by two items."""

    world: World  # set by the test (the class is made per test)

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the world as built and leaves nothing behind.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        w = self.world
        self.model = Model(
            versions={w.v1: Version(w.v1, 1, w.v1_sha, w.v1_name)},
            items={name: ItemModel(published=w.v1, latest=w.v1) for name in ITEMS},
        )
        self.client = Client()
        self.client.force_login(w.partner)
        self.history_seen = [w.v1]  # pks in upload order, as the model gave them
        self.uploads = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------

    def page(self, item: str) -> PortalItemPage:
        return PortalItemPage.objects.get(pk=self.world.items[item]).specific

    def workflow_state(self, item: str) -> WorkflowState | None:
        return WorkflowState.objects.active().filter(object_id=str(self.world.items[item])).first()

    def key_document(self) -> PortalDocument:
        """Any existing version of the file (the newest): the key for adding another."""
        document = document_versions(self.world.lineage).first()
        assert document is not None  # the published versions can never be deleted
        return document

    def added(self, document: PortalDocument, rollback_of: int | None = None) -> int:
        """Check a new version against the history so far and record it in the model."""
        assert document.lineage == self.world.lineage
        # Greater than every number ever given, deleted versions' included (their rows stay as
        # tombstones, so a number is never given to other bytes).
        assert document.version_number > self.model.highest_number
        self.model.highest_number = max(self.model.highest_number, document.version_number)
        with document.open_file() as f:
            content = f.read()
        assert sha(content) == document.sha256
        self.model.versions[document.pk] = Version(
            document.pk, document.version_number, document.sha256, document.filename, rollback_of
        )
        self.history_seen.append(document.pk)
        return document.pk

    def adopt_and_submit(self, item: str, pk: int) -> None:
        """Adopt version ``pk`` in a draft of ``item`` and send the page to its workflow, as the
        admin's "Submit for moderation" does (a rejected workflow is resumed; one in progress
        goes on and, when approved, publishes the latest revision: Wagtail's rule)."""
        version = PortalDocument.objects.get(pk=pk)
        page = self.page(item)
        attachment_version_propose(page=page, version=version, user=self.world.editor)
        state = self.workflow_state(item)
        model = self.model.items[item]
        model.latest = pk
        if state is None:
            workflow = page.get_workflow()
            assert workflow is not None, "the library's items are under the approval workflow"
            workflow.start(page, self.world.editor)
            model.reviewed = {pk}  # the task reviews the latest revision
        elif state.status == WorkflowState.STATUS_NEEDS_CHANGES:
            event("workflow: resubmitted after a rejection")
            state.resume(user=self.world.editor)
            model.reviewed.add(pk)  # a new task state on the latest revision
        model.workflow = "in_progress"

    # --- rules -----------------------------------------------------------------------------

    @rule(content=st.integers(0, 5), label=st.sampled_from(["", "2026.2"]))
    def upload(self, content: int, label: str) -> None:
        self.uploads += 1
        document = document_version_add(
            self.key_document(),
            name=f"sheet-{self.uploads}.pdf",
            content=pdf(content),
            label=label,
            notes="what changed",
            user=self.world.editor,
        )
        self.added(document)

    @rule(refused=st.sampled_from(REFUSED))
    def upload_refused(self, refused: tuple[str, bytes]) -> None:
        key = self.key_document()
        rows = set(PortalDocument.objects.values_list("pk", flat=True))
        objects = stored_names(key)
        name, content = refused
        with pytest.raises(UploadRejected):
            document_version_add(key, name=name, content=content, user=self.world.editor)
        assert set(PortalDocument.objects.values_list("pk", flat=True)) == rows
        assert stored_names(key) == objects

    @rule(item=st.sampled_from(ITEMS), data=st.data())
    def adopt_submit(self, item: str, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model.versions)), label="version")
        self.adopt_and_submit(item, pk)

    @precondition(lambda self: any(m.workflow == "in_progress" for m in self.model.items.values()))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        item = data.draw(
            st.sampled_from(
                [i for i, m in self.model.items.items() if m.workflow == "in_progress"]
            ),
            label="item",
        )
        state = self.workflow_state(item)
        assert state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS
        # Every task of the workflow (one here; the demo's has two).
        event("workflow: approved")
        while state.status == WorkflowState.STATUS_IN_PROGRESS:
            state.current_task_state.approve(user=self.world.moderator)
            state.refresh_from_db()
        assert state.status == WorkflowState.STATUS_APPROVED
        model = self.model.items[item]
        model.published = model.latest
        model.workflow = ""
        model.reviewed = set()  # the workflow is over

    @precondition(lambda self: any(m.workflow == "in_progress" for m in self.model.items.values()))
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        item = data.draw(
            st.sampled_from(
                [i for i, m in self.model.items.items() if m.workflow == "in_progress"]
            ),
            label="item",
        )
        state = self.workflow_state(item)
        assert state is not None
        event("workflow: rejected")
        state.current_task_state.reject(user=self.world.moderator)
        state.refresh_from_db()
        assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
        # The draft (with its version) stays the latest revision; partners keep the approved one.
        self.model.items[item].workflow = "needs_changes"

    @rule(item=st.sampled_from(ITEMS), data=st.data())
    def rollback(self, item: str, data: st.DataObject) -> None:
        old = data.draw(st.sampled_from(sorted(self.model.versions)), label="restored")
        document = document_version_rollback(
            PortalDocument.objects.get(pk=old), user=self.world.editor
        )
        assert document.rollback_of_id == old
        assert document.sha256 == self.model.versions[old].sha256  # the restored bytes
        pk = self.added(document, rollback_of=old)
        self.adopt_and_submit(item, pk)

    @rule(item=st.sampled_from(ITEMS))
    def expire(self, item: str) -> None:
        """Set the expiry of the version the item serves in the past (it is withdrawn)."""
        pk = self.model.items[item].published
        PortalDocument.objects.filter(pk=pk).update(expire_at=timezone.now() - timedelta(hours=1))
        self.model.versions[pk].hours_left = -1

    @rule(item=st.sampled_from(ITEMS), hours=st.integers(1, 3))
    def schedule_expiry(self, item: str, hours: int) -> None:
        pk = self.model.items[item].published
        PortalDocument.objects.filter(pk=pk).update(
            expire_at=timezone.now() + timedelta(hours=hours)
        )
        self.model.versions[pk].hours_left = hours

    @rule(hours=st.integers(1, 3))
    def time_passes(self, hours: int) -> None:
        """The clock moves on: every expiry comes ``hours`` closer (the same as moving now)."""
        for version in self.model.versions.values():
            if version.hours_left is not None:
                version.hours_left -= hours
                PortalDocument.objects.filter(pk=version.pk).update(
                    expire_at=timezone.now() + timedelta(hours=version.hours_left)
                )

    @rule(data=st.data())
    def delete_version(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model.versions)), label="deleted")
        version = PortalDocument.objects.get(pk=pk)
        if self.model.in_use(pk):
            event("delete: refused (in use)")
            with pytest.raises(ValueError):
                document_version_delete(version)
            assert PortalDocument.objects.filter(pk=pk).exists()
            return
        event("delete: done")
        name = version.file.name
        with TestCase.captureOnCommitCallbacks(execute=True):
            document_version_delete(version)
        # A tombstone: out of the history, its stored object gone, its number never reused.
        tombstone = PortalDocument.objects.get(pk=pk)
        assert tombstone.deleted_at is not None and not tombstone.file.name
        assert not version.file.storage.exists(name)
        del self.model.versions[pk]

    # --- invariants, through the real exits ---------------------------------------------------

    @invariant()
    def partners_get_the_current_approved_version(self) -> None:
        for item in ITEMS:
            url = self.world.urls[item]
            expected = self.model.served(item)
            response = self.client.get(url)
            if expected is None:
                event("checked: a withdrawn (expired) file")
                assert response.status_code == 404, (item, "expired: withdrawn")
            else:
                assert response.status_code == 200, (item, response.status_code)
                body = b"".join(cast(Any, response).streaming_content)
                assert sha(body) == expected.sha256, (item, "served other bytes")
                assert expected.filename in response["Content-Disposition"]
            listed = item_files(user=self.world.partner, item=self.page(item))["files"]
            if expected is None:
                assert listed == [], (item, "an expired version is not listed")
            else:
                (entry,) = listed
                assert entry.url == url, "the stable URL never changes"
                assert entry.version_number == expected.number

    @invariant()
    def one_approved_version_per_item(self) -> None:
        for item in ITEMS:
            rows = list(
                ItemAttachment.objects.filter(
                    page_id=self.world.items[item], document__lineage=self.world.lineage
                ).values_list("document_id", flat=True)
            )
            assert rows == [self.model.items[item].published]

    @invariant()
    def the_stable_url_never_changes(self) -> None:
        newest = self.key_document()
        for item in ITEMS:
            page = Page.objects.get(pk=self.world.items[item])
            assert download_url(page, newest) == self.world.urls[item]

    @invariant()
    def history_only_grows_by_new_numbers(self) -> None:
        rows = list(
            document_versions(self.world.lineage).values_list(
                "pk", "version_number", "sha256", "rollback_of_id"
            )
        )
        expected = sorted(
            ((v.pk, v.number, v.sha256, v.rollback_of) for v in self.model.versions.values()),
            key=lambda row: -row[1],
        )
        assert rows == expected
        # Newest first, numbers strictly decreasing: in upload order they strictly increase.
        numbers = [number for _, number, _, _ in rows]
        assert numbers == sorted(set(numbers), reverse=True)


# One example is a run of up to STEPS steps, each checked through four HTTP / selector exits:
# about as costly as a dozen examples of the other property tests, so this test runs a tenth
# of the profile's examples (dev 10, ci 100, ci-pg 25: over a thousand checked steps in CI,
# about a minute; a quarter took 154 s, too much of the suites' 10-minute CI budget).
STEPS = 12


def test_partners_only_ever_get_the_current_approved_version(portal):
    world = build_world()
    machine = type("VersionMachineForTest", (VersionMachine,), {"world": world})
    run_state_machine_as_test(
        machine,
        settings=settings(
            settings.default,
            max_examples=max(10, settings.default.max_examples // 10),
            stateful_step_count=STEPS,
            deadline=None,
        ),
    )
