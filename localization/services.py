"""Translation workflow services (wagtail-localize): regional marketers, the review workflow.

``locales_ensure`` (the content locales) lives in kb, below: kb builds the locales' homes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    GroupPagePermission,
    Locale,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowState,
    WorkflowTask,
)
from wagtail_localize.models import Translation

from permissions.services import approval_workflow_ensure

from .models import MarketerScope, RegionalReviewTask

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    from permissions.models import Region

# The role group: every regional marketer belongs to it (it holds admin access and nothing on
# pages). permissions.services.user_upsert(staff_role="marketer") puts a user in it.
MARKETERS_GROUP = "Marketers"
# One group per content locale; its page permissions are what limits a marketer to that locale's
# tree. permissions.policies.principal recognises these groups by this prefix and reads the
# locales from the pages they hold permissions on (permissions never imports localization).
MARKETER_GROUP_FORMAT = "Marketers ({code})"
# What a marketer does on his locale's tree: create and edit pages, then submit them for review.
# Never publish, never lock/bypass (CLARIFICATIONS #2).
MARKETER_PAGE_PERMISSIONS = ("add_page", "change_page")
MARKETER_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("wagtail_localize", "submit_translation"),
)


def _locale(value: Locale | str) -> Locale:
    if isinstance(value, Locale):
        return value
    code = value.strip().lower()
    try:
        return Locale.objects.get(language_code__iexact=code)
    except Locale.DoesNotExist:
        raise ValueError(f"unknown content locale {value!r}") from None


def locale_home(*, locale: Locale) -> Page | None:
    """The portal home of ``locale``: the translation of the default site's root page (the
    source-locale home), or None while the site structure does not exist yet."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    home = site.root_page
    if home.locale_id == locale.pk:
        return home
    return home.get_translation_or_none(locale)


def _role_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MARKETERS_GROUP)
    for app_label, codename in MARKETER_PERMISSIONS[:1]:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)
    return group


@transaction.atomic
def marketer_group_ensure(*, locale: Locale | str) -> Group:
    """The Wagtail group of ``locale``'s marketers, created or completed (idempotent).

    It holds admin access, wagtail-localize's ``submit_translation`` and add/change (not
    publish, not lock) on that locale's portal home, i.e. its whole tree, and nothing on any
    other tree. When the locale has no home yet, the page permissions are added by the next
    call (``kb.services.site_structure_ensure`` ends with one per locale through the
    ``portal_site_structure_ensured`` hook).

    Raises:
        ValueError: ``locale`` is the default (source) locale, which Editors own, or unknown.
    """
    locale = _locale(locale)
    if locale.pk == Locale.get_default().pk:
        raise ValueError(
            f"{locale.language_code} is the source locale: its pages are edited by Editors"
        )
    group, _ = Group.objects.get_or_create(
        name=MARKETER_GROUP_FORMAT.format(code=locale.language_code)
    )
    for app_label, codename in MARKETER_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)
    home = locale_home(locale=locale)
    if home is not None:
        # Exactly these rows: a permission on another tree (or a publish/lock one) is removed.
        GroupPagePermission.objects.filter(group=group).exclude(
            page=home, permission__codename__in=MARKETER_PAGE_PERMISSIONS
        ).delete()
        for codename in MARKETER_PAGE_PERMISSIONS:
            permission = Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            )
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
    return group


@transaction.atomic
def marketer_set(
    *,
    user: AbstractUser,
    locales: Iterable[Locale | str],
    regions: Iterable[Region] | None = None,
) -> AbstractUser:
    """Make ``user`` a regional marketer of exactly ``locales`` (and, if given, ``regions``).

    The user becomes staff, joins the "Marketers" role group and the group of each locale, and
    leaves the groups of other locales; other groups (Editors, Moderators) are left alone.
    ``regions`` None keeps the stored regions; an empty iterable clears them (every region).

    Raises:
        ValueError: a locale is unknown or is the source locale.
    """
    wanted = [marketer_group_ensure(locale=value) for value in locales]
    prefix = MARKETER_GROUP_FORMAT.split("{")[0]
    current = user.groups.filter(name__startswith=prefix).exclude(name=MARKETERS_GROUP)
    user.groups.remove(*[group for group in current if group not in wanted])
    user.groups.add(_role_group(), *wanted)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if regions is not None:
        scope, _ = MarketerScope.objects.get_or_create(user=user)
        scope.regions.set(list(regions))
    # A principal resolved earlier in this request no longer tells the truth.
    if hasattr(user, "_portal_principal"):
        delattr(user, "_portal_principal")
    return user


TRANSLATION_WORKFLOW = "Translation review"
REGIONAL_REVIEW_TASK = "Regional review"


@transaction.atomic
def translation_workflow_ensure(*, homes: Iterable[Page]) -> Workflow:
    """The "Translation review" workflow (Regional review, then the Moderators' Approval) on
    each of ``homes`` that is not in the source locale; idempotent.

    Source-locale homes keep "Approval" (``permissions.services.approval_workflow_ensure``,
    which also provides the Approval task reused here). A translation home that had "Approval"
    is switched to "Translation review".
    """
    approval = approval_workflow_ensure(roots=[])
    approval_task = approval.workflow_tasks.order_by("sort_order").first().task
    regional = RegionalReviewTask.objects.filter(name=REGIONAL_REVIEW_TASK).first()
    if regional is None:
        regional = RegionalReviewTask.objects.create(name=REGIONAL_REVIEW_TASK)
    workflow = Workflow.objects.filter(name=TRANSLATION_WORKFLOW).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=TRANSLATION_WORKFLOW, active=True)
    for order, task in enumerate((regional, approval_task)):
        WorkflowTask.objects.update_or_create(
            workflow=workflow, task=task, defaults={"sort_order": order}
        )
    default = Locale.get_default()
    for home in homes:
        if home.locale_id == default.pk:
            continue
        WorkflowPage.objects.update_or_create(page_id=home.pk, defaults={"workflow": workflow})
    return workflow


@transaction.atomic
def translation_draft_save(*, translation: Translation, user: AbstractUser | None) -> Page:
    """Save the translated strings as a new draft revision of the target page, leaving the live
    page as it is.

    wagtail-localize's ``save_target(publish=False)`` also writes the translated fields to the
    page row itself, i.e. to what partners are served of a live page, before any review (see
    docs/upstream.md). So it runs in a savepoint that is rolled back, and only the revision
    content it produced is kept, saved as a draft revision of the untouched page.
    """
    target = translation.get_target_instance()
    savepoint = transaction.savepoint()
    try:
        translation.save_target(user=user, publish=False)
        content = Page.objects.get(pk=target.pk).specific.get_latest_revision().content
    finally:
        transaction.savepoint_rollback(savepoint)
    page = Page.objects.get(pk=target.pk).specific
    page.with_content_json(content).save_revision(user=user, log_action=True)
    return Page.objects.get(pk=target.pk).specific


@transaction.atomic
def translation_submit_for_review(*, translation: Translation, user: AbstractUser) -> WorkflowState:
    """Save a synced translation's strings as a draft of its page and submit it for review.

    wagtail-localize's translation editor only publishes (for those who may); a marketer, who
    never publishes, ends his work here instead: the page's latest revision gets the translated
    strings (``save_target(publish=False)``), and the page's workflow ("Translation review")
    starts, or resumes after "changes requested", or restarts when a review was in progress.

    Raises:
        ValueError: the translation's target is not a page, or no workflow covers the page.
    """
    target = translation.get_target_instance()
    if not isinstance(target, Page):
        raise ValueError("only page translations are reviewed")
    page = translation_draft_save(translation=translation, user=user)
    workflow = page.get_workflow()
    if workflow is None:
        raise ValueError(f"no review workflow covers page {page.pk}")
    state = page.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user=user)
        return state
    if state is not None:
        state.cancel(user=user)
    return workflow.start(page, user)
