"""The "Regional review" task and the "Translation review" workflow (CLARIFICATIONS #2), over
HTTP: a Czech marketer submits, another Czech marketer reviews, a moderator approves, and only
then does the translation go live."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from wagtail.models import Page, WorkflowPage, WorkflowState
from wagtail_localize.models import StringSegment, Translation

from localization.models import RegionalReviewTask
from localization.services import TRANSLATION_WORKFLOW, translation_workflow_ensure
from permissions.policies.localization import regional_review_policy

pytestmark = pytest.mark.django_db

User = get_user_model()


def client_for(world_ids, name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=world_ids[name]))
    return client


def submit_czech_title(world_ids, title: str) -> Page:
    """Jiří translates the title and submits the Czech battlecard for review."""
    client = client_for(world_ids, "jiri")
    translation = Translation.objects.get(pk=world_ids["cs_translation"])
    segment = StringSegment.objects.get(source=translation.source, context__path="title")
    response = client.put(
        f"/admin/localize/translate/{translation.pk}/strings/{segment.pk}/edit/",
        data=encode_multipart(BOUNDARY, {"value": title}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code in (200, 201)
    response = client.post(f"/admin/localization/translations/{translation.pk}/submit/")
    assert response.status_code == 302
    return Page.objects.get(pk=world_ids["cs"])


def act(client: Client, page: Page, action: str = "approve"):
    state = page.current_workflow_state.current_task_state
    return client.post(
        f"/admin/pages/workflow/action/{page.pk}/{action}/{state.pk}/", {"comment": ""}
    )


def task_name(page: Page) -> str | None:
    state = Page.objects.get(pk=page.pk).current_workflow_state
    if state is None or state.current_task_state is None:
        return None
    return state.current_task_state.task.name


def test_workflows_per_locale(world_ids, portal):
    assert WorkflowPage.objects.get(page=portal["en"]).workflow.name == "Approval"
    for code in ("de", "cs"):
        workflow = WorkflowPage.objects.get(page=portal[code]).workflow
        assert workflow.name == TRANSLATION_WORKFLOW
        assert [t.name for t in workflow.tasks.order_by("workflow_tasks__sort_order")] == [
            "Regional review",
            "Approval by Moderators",
        ]
    # Idempotent.
    translation_workflow_ensure(homes=portal.values())
    assert RegionalReviewTask.objects.count() == 1


def test_other_marketer_then_moderator_then_live(world_ids):
    page = submit_czech_title(world_ids, "Bitevní karta F9")
    assert task_name(page) == "Regional review"

    # The submitter cannot approve his own translation; a German marketer cannot either.
    for name in ("jiri", "hans"):
        response = act(client_for(world_ids, name), page)
        assert response.status_code in (302, 403)
        assert task_name(page) == "Regional review"

    assert act(client_for(world_ids, "petra"), page).status_code == 302
    assert task_name(page) == "Approval by Moderators"
    assert not Page.objects.get(pk=page.pk).title == "Bitevní karta F9"  # not live yet

    assert act(client_for(world_ids, "moderator"), page).status_code == 302
    page = Page.objects.get(pk=page.pk)
    assert page.current_workflow_state is None
    assert page.live and page.title == "Bitevní karta F9"
    assert WorkflowState.objects.filter(
        object_id=str(page.pk), status=WorkflowState.STATUS_APPROVED
    ).exists()


def test_without_another_marketer_moderators_review(world_ids):
    petra = User.objects.get(pk=world_ids["petra"])
    petra.groups.remove(Group.objects.get(name="Marketers (cs)"))
    page = submit_czech_title(world_ids, "Karta F9")
    moderator = User.objects.get(pk=world_ids["moderator"])
    assert regional_review_policy.reviewer_ids("cs", world_ids["jiri"]) == {moderator.pk}
    assert act(client_for(world_ids, "petra"), page).status_code in (302, 403)
    assert task_name(page) == "Regional review"
    assert act(client_for(world_ids, "moderator"), page).status_code == 302
    assert task_name(page) == "Approval by Moderators"


def test_reviewers_see_the_task_in_their_list(world_ids):
    page = submit_czech_title(world_ids, "Bitevní karta")
    task = RegionalReviewTask.objects.get()
    petra = User.objects.get(pk=world_ids["petra"])
    jiri = User.objects.get(pk=world_ids["jiri"])
    state = page.current_workflow_state.current_task_state
    assert list(task.get_task_states_user_can_moderate(petra)) == [state]
    assert list(task.get_task_states_user_can_moderate(jiri)) == []
