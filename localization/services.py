"""Translation workflow services (wagtail-localize): regional marketers, the review workflow,
programmatic translations.

``locales_ensure`` (the content locales) lives in kb, below: kb builds the locales' homes.

A translation group is a page in the default locale (its *source*) and its copies in the other
content locales, which share its ``translation_key``. ``page_translation_create`` makes or updates
a copy the way wagtail-localize's Translate action does (a ``TranslationSource`` of the source,
translated strings in its translation memory, ``create_or_update_translation``), so the admin's
translation editor, PO/XLIFF files and "Sync translated pages" all see the same translation.
Imports (``import_bundle``) and the demo call it; the admin flow uses wagtail-localize's own views.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

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
from wagtail_localize.models import (
    String,
    StringTranslation,
    Translation,
    TranslationContext,
    TranslationSource,
)
from wagtail_localize.segments import StringSegmentValue, TemplateSegmentValue
from wagtail_localize.segments.extract import extract_segments

# locales_ensure is re-exported: the content locales moved to kb (built with each locale's
# home); callers of localization.services.locales_ensure keep working.
from kb.services import Audience, locales_ensure  # noqa: F401
from permissions.services import approval_workflow_ensure

from .models import CoverageSnapshot, MarketerScope, RegionalReviewTask, TranslationTask

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
    # The translation's own files (localized files, kb.models.ItemAttachment) are never
    # synchronised: the draft keeps those of the latest revision (one uploaded since the last
    # publish is only there), not the published rows save_target starts from.
    previous = Page.objects.get(pk=target.pk).specific.get_latest_revision()
    savepoint = transaction.savepoint()
    try:
        translation.save_target(user=user, publish=False)
        content = Page.objects.get(pk=target.pk).specific.get_latest_revision().content
    finally:
        transaction.savepoint_rollback(savepoint)
    if previous is not None and "attachments" in previous.content:
        content["attachments"] = previous.content["attachments"]
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


# --- translation tasks and coverage ---------------------------------------------------------


def _task_state(
    source: Mapping[str, Any],
    translation: Mapping[str, Any] | None,
    *,
    in_review: bool,
    stale_files: int,
) -> tuple[str, list[str]]:
    """The state of one task and why (docs/localized-files.md, "How a task's state is decided")."""
    state = TranslationTask.State
    if translation is None or translation["alias_of_id"] is not None:
        return state.MISSING, ["new"]
    reasons = []
    published = translation["last_published_at"]
    if (
        translation["live"]
        and published is not None
        and source["last_published_at"] is not None
        and source["last_published_at"] > published
    ):
        reasons.append("source_changed")
    if stale_files:
        reasons.append("files_out_of_date")
    if in_review:
        return state.IN_REVIEW, ["submitted", *reasons]
    if not translation["live"]:
        return state.IN_PROGRESS, ["not_live", *reasons]
    if translation["has_unpublished_changes"]:
        return state.IN_PROGRESS, ["draft", *reasons]
    if reasons:
        return state.OUT_OF_DATE, reasons
    return state.DONE, []


_PAGE_VALUES = (
    "pk",
    "translation_key",
    "locale_id",
    "live",
    "has_unpublished_changes",
    "last_published_at",
    "alias_of_id",
)
_REFRESH_BATCH = 500


@transaction.atomic
def translation_tasks_refresh(
    *, translation_keys: Iterable[Any] | None = None, day: date | None = None
) -> int:
    """Bring the translation tasks of some source items (all of them: None) up to date, then
    today's coverage snapshot of every locale whose tasks changed.

    A task exists for every live item of the default locale and every other content locale;
    a source that is not live has none. Its state is derived from the translation page
    (missing, live, draft), its workflow (in review), the source's and translation's
    publication times (source republished after the translation) and the localized files
    (master changed since). Queries per call: a fixed handful per batch of 500 sources.

    Parameters:
        translation_keys: the translation groups to refresh (a page's ``translation_key``).
        day: the snapshot day (default: today in the site's time zone).

    Returns:
        The number of tasks created, changed or deleted.
    """
    from django.db.models import Count, F
    from django.utils import timezone
    from wagtail.models import get_default_page_content_type

    from kb.models import ItemAttachment, PortalItemPage
    from kb.selectors import stale_asset_counts

    default = Locale.get_default()
    targets = list(Locale.objects.exclude(pk=default.pk).values_list("pk", flat=True))
    sources = PortalItemPage.objects.filter(locale_id=default.pk).order_by("pk")
    if translation_keys is not None:
        keys = list(set(translation_keys))
        if not keys:
            return 0
        sources = sources.filter(translation_key__in=keys)
    now = timezone.now()
    touched: set[int] = set()
    changes = 0
    rows = list(sources.values("pk", "translation_key", "live", "last_published_at"))
    if translation_keys is None:
        # A full rebuild also drops tasks whose source is gone from the default locale.
        gone = TranslationTask.objects.exclude(source_id__in=[row["pk"] for row in rows])
        touched |= set(gone.values_list("locale_id", flat=True).distinct())
        changes += gone.delete()[0]
    for start in range(0, len(rows), _REFRESH_BATCH):
        batch = rows[start : start + _REFRESH_BATCH]
        dead = [row["pk"] for row in batch if not row["live"]]
        if dead:
            gone = TranslationTask.objects.filter(source_id__in=dead)
            touched |= set(gone.values_list("locale_id", flat=True).distinct())
            changes += gone.delete()[0]
        live = [row for row in batch if row["live"]]
        if not live:
            continue
        translations = {
            (row["translation_key"], row["locale_id"]): row
            for row in PortalItemPage.objects.filter(
                translation_key__in=[row["translation_key"] for row in live],
                locale_id__in=targets,
            ).values(*_PAGE_VALUES)
        }
        ids = [row["pk"] for row in translations.values()]
        in_review = set(
            WorkflowState.objects.filter(
                base_content_type=get_default_page_content_type(),
                object_id__in=[str(pk) for pk in ids],
                status=WorkflowState.STATUS_IN_PROGRESS,
            ).values_list("object_id", flat=True)
        )
        stale: dict[int, int] = dict(
            ItemAttachment.objects.filter(page_id__in=ids, master__isnull=False)
            .exclude(master_sha256=F("master__document__sha256"))
            .values("page_id")
            .annotate(n=Count("pk"))
            .values_list("page_id", "n")
        )
        # Localized master documents / images and covers (kb.selectors.localized_asset).
        for page_id, n in stale_asset_counts(ids).items():
            stale[page_id] = stale.get(page_id, 0) + n
        existing = {
            (task.source_id, task.locale_id): task
            for task in TranslationTask.objects.filter(source_id__in=[row["pk"] for row in live])
        }
        create, update = [], []
        for source in live:
            for locale_id in targets:
                translation = translations.get((source["translation_key"], locale_id))
                tid = translation["pk"] if translation is not None else None
                files = stale.get(tid, 0) if tid is not None else 0
                state, reasons = _task_state(
                    source, translation, in_review=str(tid) in in_review, stale_files=files
                )
                values = {
                    "translation_id": tid,
                    "state": state,
                    "reasons": ",".join(reasons),
                    "stale_files": files,
                }
                task = existing.get((source["pk"], locale_id))
                if task is None:
                    create.append(
                        TranslationTask(
                            source_id=source["pk"], locale_id=locale_id, updated_at=now, **values
                        )
                    )
                elif any(getattr(task, name) != value for name, value in values.items()):
                    if task.state != state:
                        task.updated_at = now
                    for name, value in values.items():
                        setattr(task, name, value)
                    update.append(task)
                else:
                    continue
                touched.add(locale_id)
        TranslationTask.objects.bulk_create(create)
        TranslationTask.objects.bulk_update(
            update, ["translation_id", "state", "reasons", "stale_files", "updated_at"]
        )
        changes += len(create) + len(update)
    for locale in Locale.objects.filter(pk__in=touched):
        coverage_snapshot_record(locale=locale, day=day)
    return changes


@transaction.atomic
def coverage_snapshot_record(
    *, locale: Locale, day: date | None = None, counts: dict[str, int] | None = None
) -> CoverageSnapshot:
    """Write ``locale``'s coverage snapshot of ``day`` (default today): the current number of
    its tasks in each state, or ``counts`` (state → number; the demo's back-dated history).
    Idempotent: the day's row is replaced.

    Raises:
        ValueError: ``counts`` names an unknown state.
    """
    from django.db.models import Count
    from django.utils import timezone

    day = day or timezone.localdate()
    states = [choice.value for choice in TranslationTask.State]
    if counts is None:
        counts = dict(
            TranslationTask.objects.filter(locale=locale)
            .values("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
    unknown = set(counts) - set(states)
    if unknown:
        raise ValueError(f"unknown task states {sorted(unknown)}")
    snapshot, _ = CoverageSnapshot.objects.update_or_create(
        locale=locale, day=day, defaults={state: counts.get(state, 0) for state in states}
    )
    return snapshot


# --- programmatic translations (imports, the demo) -----------------------------------------

# Grants and exceptions belong to the source and apply to the whole group (CLARIFICATIONS 3).
SOURCE_ONLY_FIELDS = ("audience_grants", "audience_exceptions")


class TranslationError(ValueError):
    """A translation that cannot be made (the message says which page, which locale, and why)."""


def locale_for(code: str | Locale) -> Locale:
    """The content ``Locale`` of a language code given in any case (``pt-BR`` is ``pt-br``).

    Raises:
        TranslationError: no content locale has this code.
    """
    if isinstance(code, Locale):
        return code
    normalised = code.strip().lower().replace("_", "-")
    locale = Locale.objects.filter(language_code__iexact=normalised).first()
    if locale is None:
        known = ", ".join(
            Locale.objects.order_by("language_code").values_list("language_code", flat=True)
        )
        raise TranslationError(f'unknown locale "{code}" (content locales: {known})')
    return locale


@transaction.atomic
def page_translation_create(
    *,
    source: Page,
    locale: str | Locale,
    fields: dict[str, Any] | None = None,
    audience: Audience | None = None,
    publish: bool = False,
    user=None,
) -> Page:
    """Create or update the translation of ``source`` into ``locale`` through wagtail-localize.

    The translation is placed under the translation of the source's parent in ``locale``. The
    given ``fields`` (translated values: ``title``, ``summary``, ``body``, ...) are stored in
    wagtail-localize's translation memory wherever they line up with the source's segments (the
    translation editor then shows them, and a later sync keeps them); a value that does not line
    up (a rich text with another paragraph structure) is written to the page as it is, and so
    are values that are not texts (``tags``, a cover image, modules). Texts not
    given keep their earlier translation, or the source's text for a new translation.

    ``audience`` is the translation's *own* rule (tier, regions, types, public), which can only
    narrow the source's: what partners see of a translation is also bounded by its source and
    its parent. None keeps an existing translation's own rule, and gives a new translation the
    source's (no narrowing). Grants and exceptions exist on the source only.

    Idempotent for (source, locale): a second call updates the same page; a call that changes
    nothing writes no revision. Without ``publish`` a live translation stays as it is and the
    change waits as a draft revision (the admin flow publishes only after review; imports
    publish, CLARIFICATIONS 1).

    Parameters:
        source: a page in the default locale.
        locale: the target locale or its language code (any case).
        fields: translated field values by field name.
        audience: the translation's own audience (no grants or exceptions).
        publish: publish the new revision.
        user: recorded on the revisions, translations and publish log.

    Returns:
        The translated page (specific).

    Raises:
        TranslationError: the source is itself a translation, the locale is unknown or the
            source's own, the source's parent has no translation in the locale, or grants or
            exceptions were given.
    """
    # As stored: a caller's object may hold unsaved values (a stream assigned as raw data).
    source = Page.objects.get(pk=source.pk).specific
    target = locale_for(locale)
    _check_translatable(source, target)
    fields = dict(fields or {})
    for name in SOURCE_ONLY_FIELDS:
        if name in fields:
            raise TranslationError(
                f'"{source.title}": {name} are set on the source and apply to every translation'
            )
    if audience is not None and (audience.grants or audience.exceptions):
        raise TranslationError(
            f'"{source.title}": grants and exceptions are set on the source and apply to every '
            "translation; a translation only narrows by tier, region or partner type"
        )
    translation_source = _source_refreshed(source)
    direct = _memory_store(translation_source, source, target, fields, user)
    Translation.objects.get_or_create(
        source=translation_source, target_locale=target, defaults={"enabled": True}
    )
    return _translation_write(
        translation_source, target, direct=direct, audience=audience, publish=publish, user=user
    )


@transaction.atomic
def page_translation_sync(*, source: Page, publish: bool = False, user=None) -> list[Page]:
    """Bring every existing translation of ``source`` up to its current content.

    The texts come from the translation memory (new or changed source texts fall back to the
    source's until translated); each translation keeps its own audience. Without ``publish``
    the result waits as a draft revision of each translation (to be reviewed), so a live
    translation never changes unseen.

    Returns:
        The translations brought up to date (specific pages), in locale order.
    """
    source = Page.objects.get(pk=source.pk).specific
    translation_source = _source_refreshed(source)
    pages = []
    for translation in (
        Translation.objects.filter(source=translation_source, enabled=True)
        .select_related("target_locale")
        .order_by("target_locale__language_code")
    ):
        if source.get_translation_or_none(translation.target_locale) is None:
            continue  # the copy was deleted; a new create_translation makes it again
        pages.append(
            _translation_write(
                translation_source,
                translation.target_locale,
                direct={},
                audience=None,
                publish=publish,
                user=user,
            )
        )
    return pages


# --- internals --------------------------------------------------------------------------------


def _check_translatable(source: Page, target: Locale) -> None:
    default = Locale.get_default()
    if source.locale_id != default.pk:
        raise TranslationError(
            f'"{source.title}" is in locale "{source.locale.language_code}": a translation\'s '
            f'source must be a page in the default locale "{default.language_code}" (a '
            "translation of a translation is not made)"
        )
    if target.pk == source.locale_id:
        raise TranslationError(
            f'"{source.title}" is already in locale "{target.language_code}": translate it into '
            "another locale"
        )
    parent = source.get_parent()
    if parent is None or parent.get_translation_or_none(target) is None:
        raise TranslationError(
            f'"{source.title}": its parent "{parent.title if parent else "-"}" has no translation '
            f'in "{target.language_code}"; translate the parent first'
        )


def _source_refreshed(source: Page) -> TranslationSource:
    translation_source, created = TranslationSource.get_or_create_from_instance(source)
    if not created:
        translation_source.update_from_db()
    return translation_source


def _segments_of(instance: Page, name: str) -> list:
    prefix = name + "."
    return [s for s in extract_segments(instance) if s.path == name or s.path.startswith(prefix)]


def _shape(segments: list) -> list[tuple]:
    shape: list[tuple] = []
    for segment in segments:
        if isinstance(segment, StringSegmentValue):
            shape.append(("string", segment.path, segment.order))
        elif isinstance(segment, TemplateSegmentValue):
            shape.append(("template", segment.path, segment.template, segment.string_count))
        else:
            shape.append((type(segment).__name__, segment.path))
    return shape


def _memory_store(
    translation_source: TranslationSource,
    source: Page,
    target: Locale,
    fields: dict[str, Any],
    user,
) -> dict[str, Any]:
    """Store the translated ``fields`` as StringTranslations where their segments line up with
    the source's; return the ones that do not (written directly to the page)."""
    direct: dict[str, Any] = {}
    if not fields:
        return direct
    if "tags" in fields:  # not a text of the page: always the translation's own
        direct["tags"] = fields.pop("tags")
    probe = translation_source.as_instance()
    for name, value in fields.items():
        setattr(probe, name, value)
    for name, value in fields.items():
        try:
            original = _segments_of(source, name)
            translated = _segments_of(probe, name)
        except (TypeError, ValueError, AttributeError):
            # A value wagtail-localize cannot segment as given (a stream whose blocks have no
            # ids yet): not matched to the source's segments.
            direct[name] = value
            continue
        strings = [s for s in original if isinstance(s, StringSegmentValue)]
        if not strings or _shape(original) != _shape(translated):
            direct[name] = value
            continue
        for before, after in zip(
            strings, [s for s in translated if isinstance(s, StringSegmentValue)], strict=True
        ):
            context = TranslationContext.objects.get(
                object_id=translation_source.object_id, path=before.path
            )
            string = String.from_value(source.locale, before.string)
            current = StringTranslation.objects.filter(
                translation_of=string, locale=target, context=context
            ).first()
            if current is not None and current.data == after.string.data:
                continue
            StringTranslation.objects.update_or_create(
                translation_of=string,
                locale=target,
                context=context,
                defaults={
                    "data": after.string.data,
                    "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL,
                    "tool_name": "",
                    "last_translated_by": user,
                    "has_error": False,
                    "field_error": "",
                },
            )
    return direct


def _own_audience(page: Page) -> Audience:
    return Audience(
        min_tier=page.audience_min_tier,
        regions=list(page.audience_regions.all()),
        partner_types=list(page.audience_partner_types.all()),
        public=page.audience_public,
    )


def _audience_set(page: Page, audience: Audience) -> None:
    page.audience_public = audience.public
    page.audience_min_tier = audience.min_tier
    page.audience_regions = list(audience.regions)
    page.audience_partner_types = list(audience.partner_types)
    # Never copied from the source: the source's grants and exceptions govern the group.
    page.audience_grants = []
    page.audience_exceptions = []


def _translation_write(
    translation_source: TranslationSource,
    target: Locale,
    *,
    direct: dict[str, Any],
    audience: Audience | None,
    publish: bool,
    user,
) -> Page:
    source = translation_source.get_source_instance()
    existing = source.get_translation_or_none(target)
    if existing is None:
        # A new copy under the parent's translation, not live until its revision is published.
        page, _created = translation_source.create_or_update_translation(
            target, user=user, publish=False, fallback=True
        )
        page = Page.objects.get(pk=page.pk).specific
        wanted = audience if audience is not None else _own_audience(source)
    else:
        existing = existing.specific
        wanted = audience if audience is not None else _own_audience(existing)
        # The translation memory applied in memory only: the page row (what partners see of a
        # live page) changes when a revision is published, never by saving a draft.
        page = translation_source.get_ephemeral_translated_instance(target, fallback=True)
        if (
            existing.live
            and not existing.has_unpublished_changes
            and _state(_applied(page, direct, wanted, source)) == _state(existing)
        ):
            return existing
    _applied(page, direct, wanted, source)
    if existing is None:
        page.save()  # the own audience and direct texts on the draft copy (not live yet)
    revision = page.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user)
    page = Page.objects.get(pk=page.pk).specific
    return page


def _applied(page: Page, direct: dict[str, Any], audience: Audience, source: Page) -> Page:
    localized_fields = getattr(type(page), "localized_asset_fields", {})
    for name, value in direct.items():
        if name == "tags":
            # The translation's own tags (its language's words), in memory like the rest.
            page.tags.set(list(dict.fromkeys(value)))
        else:
            setattr(page, name, value)
        if name in localized_fields:
            # A file of its own given for a localizable file field (cover, master document or
            # image) is a localized file, made for the source's current file
            # (docs/localized-files.md); the source's own file given back is not localized.
            original = getattr(source.specific, name, None)
            localized = value is not None and (original is None or value.pk != original.pk)
            sha = original.get_sha256() if localized and original is not None else ""
            setattr(page, f"{name}_source_sha256", sha)
    _audience_set(page, audience)
    return page


# Page bookkeeping that differs between a translation and its in-memory update without the
# content having changed.
_BOOKKEEPING = {
    "id",
    "page_ptr",
    "path",
    "depth",
    "numchild",
    "url_path",
    "draft_title",
    "live",
    "has_unpublished_changes",
    "first_published_at",
    "last_published_at",
    "latest_revision_created_at",
    "live_revision",
    "latest_revision",
    "locked",
    "locked_at",
    "locked_by",
    "owner",
    "content_type",
    "translation_key",
    "locale",
    "alias_of",
    "expired",
}
_BLOCK_KEY = re.compile(r' data-block-key="[^"]*"')


def _state(page: Page) -> tuple:
    """A page's content and own audience as comparable values."""
    values: list[tuple] = []
    for field in page._meta.concrete_fields:
        if field.name in _BOOKKEEPING or field.name.endswith("_ptr"):
            continue
        value = field.get_prep_value(field.value_from_object(page))
        values.append((field.name, _comparable(value)))
    for name in ("audience_regions", "audience_partner_types"):
        values.append((name, tuple(sorted(row.pk for row in getattr(page, name).all()))))
    if hasattr(page, "tags"):
        values.append(("tags", tuple(sorted(tag.name for tag in page.tags.all()))))
    return tuple(values)


def _comparable(value: Any) -> Any:
    # Rich text and stream values get fresh block keys / ids each time they are built.
    if isinstance(value, str):
        stripped = _BLOCK_KEY.sub("", value)
        if stripped.startswith("[") and '"id"' in stripped:
            try:
                return _comparable(json.loads(stripped))
            except ValueError:
                return stripped
        return stripped
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value
