"""Deleting a version must not break what still names it (found by the state-machine test,
kb/tests/test_version_state_machine.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import WorkflowState

from accounts.tests.factories import UserFactory
from files.tests.factories import make_pdf_bytes
from files.versions import document_version_add
from kb.models import PortalItemPage
from kb.services import FileSpec, attachment_version_propose, document_version_delete
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet(portal):
    item = make_item(
        key="guard-sheet",
        files=[FileSpec(name="guard.pdf", content=make_pdf_bytes("v1"), title="Datasheet")],
    )
    return item, item.attachments.get().document


def test_a_version_under_review_cannot_be_deleted(sheet):
    """A workflow's task reviews the revision it started on; approving it reads that revision
    (Wagtail logs the approval with it). Once the version in it was deleted, the approval
    failed ("can't currently handle on_delete types other than CASCADE, SET_NULL and
    DO_NOTHING", ItemAttachment.document is PROTECT)."""
    item, v1 = sheet
    editor = UserFactory(is_staff=True)
    moderator: Any = UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    v2 = document_version_add(v1, name="guard-2.pdf", content=make_pdf_bytes("v2"))
    attachment_version_propose(page=item, version=v2, user=editor)
    page = PortalItemPage.objects.get(pk=item.pk)
    page.get_workflow().start(page, editor)
    # Still under review, the editor adopts v3 instead: the latest revision no longer names v2.
    v3 = document_version_add(v1, name="guard-3.pdf", content=make_pdf_bytes("v3"))
    attachment_version_propose(page=item, version=v3, user=editor)
    with pytest.raises(ValueError, match="under review"):
        document_version_delete(v2)
    state = WorkflowState.objects.active().get(object_id=str(item.pk))
    state.current_task_state.approve(user=moderator)  # works: v2 is still there
    assert item.attachments.get().document_id == v3.pk


def test_a_version_in_a_scheduled_revision_cannot_be_deleted(sheet):
    """A revision approved to go live later is published by the scheduler from its content; a
    version deleted meanwhile would make that publish fail."""
    item, v1 = sheet
    v2 = document_version_add(
        v1,
        name="guard-2.pdf",
        content=make_pdf_bytes("v2"),
        go_live_at=timezone.now() + timedelta(days=1),
    )
    attachment_version_propose(page=item, version=v2).publish()  # scheduled, not live
    assert item.attachments.get().document_id == v1.pk
    v3 = document_version_add(v1, name="guard-3.pdf", content=make_pdf_bytes("v3"))
    attachment_version_propose(page=item, version=v3)  # a later draft, not naming v2
    with pytest.raises(ValueError, match="scheduled"):
        document_version_delete(v2)


def test_a_version_number_is_never_given_twice(sheet):
    item, v1 = sheet
    v2 = document_version_add(v1, name="guard-2.pdf", content=make_pdf_bytes("v2"))
    document_version_delete(v2)
    v3 = document_version_add(v1, name="guard-3.pdf", content=make_pdf_bytes("v3"))
    assert v3.version_number == 3


def test_an_older_revision_naming_a_deleted_version_still_opens(sheet):
    item, v1 = sheet
    v2 = document_version_add(v1, name="guard-2.pdf", content=make_pdf_bytes("v2"))
    old = attachment_version_propose(page=item, version=v2)
    old.publish()
    v3 = document_version_add(v1, name="guard-3.pdf", content=make_pdf_bytes("v3"))
    attachment_version_propose(page=item, version=v3).publish()
    document_version_delete(v2)  # allowed: no item's published or latest revision uses it
    old.refresh_from_db()
    page = old.as_object()  # "can no longer be restored with that file", but it opens
    assert page.pk == item.pk
