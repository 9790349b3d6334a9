"""The admin's side of a file's versions (docs/file-versions.md): which items use a file and
which version each of them has LIVE and PENDING, and adopting a version in those items.

Selectors read with a bounded number of queries whatever the length of the history or the
number of items (the "Versions" view and the page editor's Files tab show them); the service
writes draft revisions and submits them to the page's workflow: editors submit, moderators
approve and publish (CLARIFICATIONS 2 and 6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import Page, Revision, WorkflowState

from files.models import PortalDocument

from .models import ItemAttachment, MarketingAssetPage, PortalItemPage
from .services import attachment_version_propose

# The state of the revision that proposes a version, as the editor reads it.
PENDING_IN_MODERATION = "in_moderation"
PENDING_REJECTED = "rejected"
PENDING_DRAFT = "draft"


@dataclass
class FileUse:
    """One item using a file: the version partners get and the one its latest revision
    proposes (None when it is the live one)."""

    page: PortalItemPage
    live: PortalDocument | None
    pending: PortalDocument | None
    pending_state: str | None
    # Does the latest revision (draft or published) use the file at all? An item whose draft
    # removed it is shown, but a new version is not proposed to it.
    uses_latest: bool
    latest_revision_id: int | None

    @property
    def is_live(self) -> bool:
        return bool(self.page.live) and self.live is not None


def _revision_documents(content: dict[str, Any]) -> list[int]:
    """The document ids a page revision's content names (attachments, a master document)."""
    ids = [
        int(child["document"])
        for child in content.get("attachments") or []
        if isinstance(child, dict) and child.get("document")
    ]
    master = content.get("master_document")
    if master:
        ids.append(int(master))
    return ids


def file_uses(lineage: int, *, pages: Iterable[int] | None = None) -> list[FileUse]:
    """The items using file ``lineage``: in their published state (their attachment and master
    rows are the published ones) with, for each, the version its latest revision proposes and
    that revision's workflow state. Six queries whatever the number of items or
    versions.

    ``pages`` narrows to those page ids (the page editor asks for one item)."""
    # Simple indexed lookups by the documents' lineage (one query with an OR across the joins
    # made SQLite scan every page and version).
    live: dict[int, PortalDocument] = {}
    attachments = ItemAttachment.objects.filter(document__lineage=lineage).select_related(
        "document"
    )
    if pages is not None:
        attachments = attachments.filter(page_id__in=list(pages))
    for attachment in attachments.order_by("sort_order", "pk"):
        live.setdefault(attachment.page_id, attachment.document)
    masters = MarketingAssetPage.objects.filter(master_document__lineage=lineage)
    if pages is not None:
        masters = masters.filter(pk__in=list(pages))
    for asset in masters.select_related("master_document"):
        if asset.master_document is not None:
            live.setdefault(asset.pk, asset.master_document)
    if not live:
        return []
    items = list(PortalItemPage.objects.filter(pk__in=list(live)).order_by("title", "pk"))
    # The latest revisions of the items with unpublished changes: what they propose.
    drafts = {
        item.latest_revision_id: item.pk
        for item in items
        if item.has_unpublished_changes and item.latest_revision_id
    }
    proposed_ids: dict[int, list[int]] = {}
    for revision_id, content in Revision.objects.filter(pk__in=list(drafts)).values_list(
        "pk", "content"
    ):
        proposed_ids[drafts[revision_id]] = _revision_documents(content or {})
    wanted = {pk for names in proposed_ids.values() for pk in names}
    versions = {
        doc.pk: doc
        for doc in PortalDocument.objects.filter(pk__in=wanted, lineage=lineage).select_related(
            "uploaded_by_user"
        )
    }
    states = dict(
        WorkflowState.objects.filter(
            base_content_type=ContentType.objects.get_for_model(Page),
            object_id__in=[str(pk) for pk in proposed_ids],
            status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES],
        ).values_list("object_id", "status")
    )
    uses = []
    for item in items:
        current = live.get(item.pk)
        pending = None
        pending_state = None
        uses_latest = True
        if item.pk in proposed_ids:
            proposed = [versions[pk] for pk in proposed_ids[item.pk] if pk in versions]
            uses_latest = bool(proposed)
            if proposed and (current is None or proposed[0].pk != current.pk):
                pending = proposed[0]
        if pending is not None:
            status = states.get(str(item.pk))
            if status == WorkflowState.STATUS_IN_PROGRESS:
                pending_state = PENDING_IN_MODERATION
            elif status == WorkflowState.STATUS_NEEDS_CHANGES:
                pending_state = PENDING_REJECTED
            else:
                pending_state = PENDING_DRAFT
        uses.append(
            FileUse(
                page=item,
                live=current,
                pending=pending,
                pending_state=pending_state,
                uses_latest=uses_latest,
                latest_revision_id=item.latest_revision_id,
            )
        )
    return uses


def page_workflow_submit(page: Page, *, user: Any) -> WorkflowState | None:
    """Submit ``page``'s latest revision to its workflow, as Wagtail's "Submit for approval"
    does: a review in progress restarts on the new revision, one that requested changes
    resumes. None when no workflow covers the page (the draft then waits for a publisher)."""
    page = Page.objects.get(pk=page.pk).specific
    workflow = page.get_workflow()
    if workflow is None:
        return None
    state = page.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user=user)
        return state
    if state is not None:
        state.cancel(user=user)
    started: WorkflowState = workflow.start(page, user)
    return started


@dataclass
class Adoption:
    """What adopting a version did for one item."""

    page: Page
    revision: Revision
    workflow_state: WorkflowState | None


@transaction.atomic
def attachment_version_adopt(
    *, version: PortalDocument, pages: Iterable[Page], user: Any, submit: bool = True
) -> list[Adoption]:
    """Propose ``version`` to each of ``pages`` (a draft revision each:
    ``kb.services.attachment_version_propose``) and, with ``submit``, submit that revision to
    the page's workflow. Partners keep the approved version until a moderator approves and
    publishes; a rejection leaves them on it. Callers have asked
    ``document_policy.can_propose_version`` for every page.

    Raises:
        ValueError: a page's latest revision uses no version of the file.
    """
    done = []
    for page in pages:
        revision = attachment_version_propose(page=page, version=version, user=user)
        state = page_workflow_submit(page, user=user) if submit else None
        done.append(Adoption(page=page, revision=revision, workflow_state=state))
    return done
