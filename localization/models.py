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

    def get_actions(self, obj: Any, user: Any) -> list[tuple[str, Any, bool]]:
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


class TranslationTask(models.Model):
    """The work one source item needs in one target locale, kept current by
    localization.signal_handlers (``translation_tasks_refresh``) from the pages, workflows and
    localized files it depends on; docs/localized-files.md says how each state is decided.

    One row per live source item (a page of the default locale) and target locale.
    """

    class State(models.TextChoices):
        MISSING = "missing", _("Missing")
        OUT_OF_DATE = "out_of_date", _("Out of date")
        IN_PROGRESS = "in_progress", _("In progress")
        IN_REVIEW = "in_review", _("In review")
        DONE = "done", _("Done")

    # Why a task is in its state (several may hold; stored as codes, shown translated).
    REASONS = {
        "new": _("not translated yet"),
        "source_changed": _("the source was published after the translation"),
        "files_out_of_date": _("a localized file's original has changed"),
        "draft": _("a draft is not published yet"),
        "not_live": _("the translation is not published"),
        "submitted": _("submitted for review"),
    }

    source = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="translation_tasks"
    )
    locale = models.ForeignKey("wagtailcore.Locale", on_delete=models.CASCADE, related_name="+")
    translation = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices)
    reasons = models.CharField(max_length=200, blank=True)
    # Localized files of the translation whose master changed since (shown with the task).
    stale_files = models.PositiveIntegerField(default=0)
    # When the state last changed (not when it was last recomputed).
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("translation task")
        constraints = [
            models.UniqueConstraint(fields=["source", "locale"], name="translation_task_unique")
        ]
        indexes = [models.Index(fields=["locale", "state", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.locale_id}: {self.state}"

    @property
    def reason_labels(self) -> list[str]:
        return [str(self.REASONS[code]) for code in self.reasons.split(",") if code in self.REASONS]


class CoverageSnapshot(models.Model):
    """How many tasks of one locale were in each state on one day (the coverage chart).

    Today's row is rewritten whenever the locale's tasks change (``coverage_snapshot_record``),
    so the last state of each day stays.
    """

    locale = models.ForeignKey("wagtailcore.Locale", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    missing = models.PositiveIntegerField(default=0)
    out_of_date = models.PositiveIntegerField(default=0)
    in_progress = models.PositiveIntegerField(default=0)
    in_review = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("coverage snapshot")
        constraints = [
            models.UniqueConstraint(fields=["locale", "day"], name="coverage_snapshot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.locale_id} {self.day}: {self.done}/{self.total}"

    @property
    def total(self) -> int:
        return self.missing + self.out_of_date + self.in_progress + self.in_review + self.done

    @property
    def coverage(self) -> float:
        """Share of the locale's tasks that are done (0 to 1; 1 when there are none)."""
        return self.done / self.total if self.total else 1.0
