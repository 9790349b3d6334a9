"""Tables of the translation workflows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import Task, TaskState

from permissions.policies.localization import regional_review_policy


class MarketerScope(models.Model):
    """The regions a regional marketer works for (optional; empty = every region).

    A marketer's *locales* are not stored here: they are the per-locale Wagtail groups
    ("Marketers (cs)") the user belongs to, because those groups are what Wagtail's own page
    permissions enforce. Regions only narrow what the marketer's task lists show; they are not an
    access boundary (the locale tree is).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketer_scope"
    )
    regions = models.ManyToManyField("permissions.Region", blank=True, related_name="+")

    class Meta:
        verbose_name = _("marketer scope")

    def __str__(self) -> str:
        return f"marketer scope of {self.user_id}"


class RegionalReviewTask(Task):
    """ "Regional review": a translation is checked by another marketer of its locale.

    Reviewers are the active marketers of the object's locale other than the one who submitted
    it; when there is none, the Moderators (other than the submitter). Who that is, is decided
    by ``permissions.policies.localization.regional_review_policy``; this task only asks it. The
    submitter can never approve his own submission (unless he is a superuser).
    """

    admin_form_fields = Task.admin_form_fields

    class Meta:
        verbose_name = _("regional review task")
        verbose_name_plural = _("regional review tasks")

    @staticmethod
    def _submitter_id(obj: Any) -> int | None:
        state = getattr(obj, "current_workflow_state", None)
        return state.requested_by_id if state is not None else None

    def can_review(self, obj: Any, user: Any) -> bool:
        return regional_review_policy.can_review(user, obj.locale, self._submitter_id(obj))

    def user_can_access_editor(self, obj: Any, user: Any) -> bool:
        return self.can_review(obj, user)

    def locked_for_user(self, obj: Any, user: Any) -> bool:
        return not self.can_review(obj, user)

    def user_can_lock(self, obj: Any, user: Any) -> bool:
        return self.can_review(obj, user)

    def get_actions(self, obj: Any, user: Any) -> list[tuple[str, str, bool]]:
        if not self.can_review(obj, user):
            return []
        return [
            ("reject", _("Request changes"), True),
            ("approve", _("Approve"), False),
            ("approve", _("Approve with comment"), True),
        ]

    def get_task_states_user_can_moderate(self, user: Any, **kwargs: Any) -> Any:
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS).select_related(
            "workflow_state"
        )
        ids = [
            state.pk
            for state in states
            if regional_review_policy.can_review(
                user,
                state.workflow_state.content_object.locale,
                state.workflow_state.requested_by_id,
            )
        ]
        return TaskState.objects.filter(pk__in=ids)

    @classmethod
    def get_description(cls) -> str:
        return str(
            _(
                "Another marketer of the translation's locale approves it (Moderators when "
                "there is none); the submitter never approves his own."
            )
        )
