"""Reads of the translation workflows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import Q
from django.utils.translation import gettext_lazy
from wagtail.models import Locale

from .models import MarketerScope
from .services import MARKETER_GROUP_FORMAT

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    from permissions.models import Region

_GROUP_RE = re.compile(
    "^"
    + re.escape(MARKETER_GROUP_FORMAT).replace(re.escape("{code}"), "(?P<code>[a-z0-9-]+)")
    + "$"
)


def marketer_locales(*, user: AbstractUser) -> list[Locale]:
    """The locales ``user`` is a regional marketer of (by language code; empty if none)."""
    if not user.is_authenticated:
        return []
    codes = [
        match.group("code")
        for name in user.groups.values_list("name", flat=True)
        if (match := _GROUP_RE.match(name))
    ]
    return list(Locale.objects.filter(language_code__in=codes).order_by("language_code"))


def marketer_regions(*, user: AbstractUser) -> list[Region]:
    """The regions a marketer works for; empty means every region."""
    scope = MarketerScope.objects.filter(user_id=user.pk).first()
    return list(scope.regions.all()) if scope is not None else []


# --- translation tasks: the per-locale dashboard --------------------------------------------

STATE_ORDER = ("out_of_date", "missing", "in_progress", "in_review", "done")
# Chart colours per state (distinguishable in greyscale too: the legend and table name them).
STATE_COLORS = {
    "out_of_date": "#c0392b",
    "missing": "#7f8c8d",
    "in_progress": "#2980b9",
    "in_review": "#8e44ad",
    "done": "#27ae60",
}
TASKS_PER_PAGE = 50
# Tasks whose translation has unsubmitted work (not live, or a draft: edits, a sync, an upload).
SUBMITTABLE = ("in_progress",)


def dashboard_locales(*, user: Any) -> list[Locale]:
    """The target locales whose tasks ``user`` may see: a marketer his own, editors and
    superusers every locale but the source one (permissions.policies.localization decides)."""
    from permissions.policies.localization import translation_policy

    default = Locale.get_default()
    return [
        locale
        for locale in Locale.objects.exclude(pk=default.pk).order_by("language_code")
        if translation_policy.can_edit_locale(user, locale)
    ]


def task_scope_q(*, user: Any) -> Q:
    """The tasks a user's list shows: for a marketer with regions (``marketer_regions``), the
    items for everyone or for a region related to his (the region, a sub-region, or a region it
    lies in); everyone else: all. Regions narrow the list, they are no access boundary (the
    locale is: ``dashboard_locales``)."""
    from kb.models import PortalItemPage
    from permissions.models import Region

    regions = marketer_regions(user=user) if getattr(user, "is_authenticated", False) else []
    if not regions:
        return Q()
    parents = dict(Region.objects.values_list("pk", "parent_id"))
    mine = {region.pk for region in regions}
    related = set()
    for region_id in parents:
        chain, seen = [], set()
        current: int | None = region_id
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(current)
            current = parents.get(current)
        if mine & set(chain):  # the region is one of his, or lies below one of his
            related.add(region_id)
    for region_id in mine:  # and the regions his lie in
        current = parents.get(region_id)
        while current is not None and current not in related:
            related.add(current)
            current = parents.get(current)
    unrestricted = PortalItemPage.objects.filter(audience_regions__isnull=True).values("pk")
    matching = PortalItemPage.objects.filter(audience_regions__in=related).values("pk")
    return Q(source_id__in=unrestricted) | Q(source_id__in=matching)


def task_counts(*, locales: list[Locale], scope: Q | None = None) -> dict[int, dict[str, int]]:
    """Tasks per state for each locale (one query): ``{locale_id: {state: n}}``; ``scope``
    narrows them (``task_scope_q``)."""
    from django.db.models import Count

    from .models import TranslationTask

    counts: dict[int, dict[str, int]] = {
        locale.pk: dict.fromkeys(STATE_ORDER, 0) for locale in locales
    }
    rows = (
        TranslationTask.objects.filter(locale_id__in=list(counts))
        .filter(scope or Q())
        .values("locale_id", "state")
        .annotate(n=Count("pk"))
        .values_list("locale_id", "state", "n")
    )
    for locale_id, state, n in rows:
        counts[locale_id][state] = n
    return counts


@dataclass
class TaskFile:
    """One file of a task's source item and its localized file on the translation (if any)."""

    master: Any  # kb ItemAttachment of the source
    localized: Any | None  # kb ItemAttachment of the translation
    out_of_date: bool
    upload_url: str | None
    confirm_url: str | None


@dataclass(frozen=True)
class AssetRef:
    """A single-file field's file shown like an attachment (``title``, ``document``)."""

    title: str
    document: Any  # kb PortalDocument or PortalImage (both have ``title`` and ``filename``)


def _asset_labels() -> dict[str, Any]:
    return {
        "master_document": gettext_lazy("Master document"),
        "master_image": gettext_lazy("Master image"),
        "cover_image": gettext_lazy("Cover image"),
    }


def asset_task_files(
    pairs: list[tuple[int, int | None]], *, may_upload
) -> dict[tuple[int, int | None], list[TaskFile]]:
    """Per (source id, translation id): a ``TaskFile`` for each single-file field of the source
    a translation may localize (``kb.selectors.localized_asset``: master document / image of a
    marketing asset, an item's cover), with upload / confirm URLs when ``may_upload(translation)``.
    Four queries for any number of pairs (the dashboard's bound)."""
    from django.urls import reverse

    from kb.models import MarketingAssetPage, PortalItemPage

    ids = {pk for pair in pairs for pk in pair if pk is not None}
    if not ids:
        return {}
    pages: dict[int, Any] = {
        page.pk: page
        for page in PortalItemPage.objects.filter(pk__in=ids).select_related(
            "cover_image", "locale"
        )
    }
    pages.update(
        (page.pk, page)
        for page in MarketingAssetPage.objects.filter(pk__in=ids).select_related(
            "cover_image", "master_document", "master_image", "locale"
        )
    )
    labels = _asset_labels()
    found: dict[tuple[int, int | None], list[TaskFile]] = {}
    for source_id, translation_id in pairs:
        source = pages.get(source_id)
        if source is None:
            continue
        translation = pages.get(translation_id) if translation_id is not None else None
        rows = []
        for which in source.localized_asset_fields:
            master = getattr(source, which)
            if master is None:
                continue
            loc = stale = None
            upload_url = confirm_url = None
            if translation is not None:
                recorded = getattr(translation, f"{which}_source_sha256", "")
                own = getattr(translation, which, None)
                if recorded and own is not None:
                    loc = AssetRef(str(labels[which]), own)
                    stale = bool(master.sha256) and master.sha256 != recorded
                if may_upload(translation):
                    upload_url = reverse(
                        "portal_localized_asset_upload", args=[translation.pk, which]
                    )
                    if stale:
                        confirm_url = reverse(
                            "portal_localized_asset_confirm", args=[translation.pk, which]
                        )
            rows.append(
                TaskFile(
                    AssetRef(str(labels[which]), master), loc, bool(stale), upload_url, confirm_url
                )
            )
        found[(source_id, translation_id)] = rows
    return found


@dataclass
class TaskRow:
    task: Any
    state_label: str
    source_url: str
    translation_url: str | None
    translate_url: str | None
    files: list[TaskFile]
    sync_url: str | None = None  # the source changed: bring its new text into the translation
    # The translation editor (wagtail-localize's) shows neither the page header's "Localized
    # files" nor "Submit for review": the task list offers both.
    files_url: str | None = None
    submit_url: str | None = None


@dataclass
class ChartPoint:
    day: date
    x: float
    counts: dict[str, int]
    coverage: int  # percent done


@dataclass
class CoverageChart:
    """A server-rendered line chart of one locale's coverage history (inline SVG)."""

    width: int
    height: int
    top: int
    bottom: int
    left: int
    right: int
    points: list[ChartPoint]
    lines: list[tuple[str, str, str, str]]  # (state, label, "x,y x,y …", colour)
    coverage_line: str
    y_max: int
    y_ticks: list[tuple[int, float]]
    x_labels: list[tuple[str, float]]


@dataclass
class LocaleDashboard:
    locale: Locale
    locales: list[Locale]
    counts: dict[str, int]
    total: int
    coverage: int
    state: str | None
    rows: list[TaskRow]
    page: int
    has_next: bool
    chart: CoverageChart | None
    history: list[Any] = field(default_factory=list)


def coverage_chart(snapshots: list[Any], *, width: int = 640, height: int = 220) -> CoverageChart:
    """Coordinates of the coverage chart: one line per state (counts) and the coverage line
    (percent done, on the same height scale as 0-100 %)."""
    from .models import TranslationTask

    left, right, top, bottom = 40, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max([s.total for s in snapshots] + [1])
    n = len(snapshots)

    def x_of(i: int) -> float:
        return round(left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y_of(value: float, top_value: float) -> float:
        return round(top + plot_h - plot_h * value / top_value, 1)

    points = [
        ChartPoint(
            s.day,
            x_of(i),
            {state: getattr(s, state) for state in STATE_ORDER},
            round(100 * s.coverage),
        )
        for i, s in enumerate(snapshots)
    ]
    labels = dict(TranslationTask.State.choices)
    lines = [
        (
            state,
            str(labels[state]),
            " ".join(f"{p.x},{y_of(p.counts[state], y_max)}" for p in points),
            STATE_COLORS[state],
        )
        for state in STATE_ORDER
    ]
    coverage_line = " ".join(f"{p.x},{y_of(p.coverage, 100)}" for p in points)
    ticks = sorted({0, y_max // 2, y_max})
    step = max(1, n // 6)
    x_labels = [(p.day.isoformat(), p.x) for i, p in enumerate(points) if i % step == 0]
    return CoverageChart(
        width,
        height,
        top,
        height - bottom,
        left,
        width - right,
        points,
        lines,
        coverage_line,
        y_max,
        [(tick, y_of(tick, y_max)) for tick in ticks],
        x_labels,
    )


def locale_dashboard(
    *,
    user: Any,
    locale: Locale,
    state: str | None = None,
    page: int = 1,
    days: int = 90,
    locales: list[Locale] | None = None,
) -> LocaleDashboard:
    """Counts, one page of tasks (with their files and the links ``user`` may follow) and the
    coverage history of ``locale``. A fixed number of queries whatever the number of tasks."""
    from django.db.models import Case, IntegerField, Value, When
    from django.urls import reverse
    from django.utils import timezone

    from kb.models import ItemAttachment
    from permissions.policies.localization import translation_policy

    from .models import CoverageSnapshot, TranslationTask

    if locales is None:
        locales = dashboard_locales(user=user)
    scope = task_scope_q(user=user)
    counts = task_counts(locales=[locale], scope=scope)[locale.pk]
    total = sum(counts.values())
    tasks = (
        TranslationTask.objects.filter(locale=locale)
        .filter(scope)
        .select_related("source", "translation")
    )
    if state in STATE_ORDER:
        tasks = tasks.filter(state=state)
    else:
        state = None
    priority = Case(
        *[When(state=s, then=Value(i)) for i, s in enumerate(STATE_ORDER)],
        output_field=IntegerField(),
    )
    page = max(1, page)
    offset = (page - 1) * TASKS_PER_PAGE
    found = list(
        tasks.annotate(priority=priority).order_by("priority", "-updated_at", "pk")[
            offset : offset + TASKS_PER_PAGE + 1
        ]
    )
    has_next = len(found) > TASKS_PER_PAGE
    found = found[:TASKS_PER_PAGE]

    masters: dict[int, list[Any]] = {}
    for att in (
        ItemAttachment.objects.filter(page_id__in=[t.source_id for t in found])
        .select_related("document")
        .order_by("sort_order", "pk")
    ):
        masters.setdefault(att.page_id, []).append(att)
    localized: dict[tuple[int, int], Any] = {}
    for att in ItemAttachment.objects.filter(
        page_id__in=[t.translation_id for t in found if t.translation_id],
        master__isnull=False,
    ).select_related("document"):
        localized[(att.page_id, att.master_id)] = att

    # The wagtail-localize sources of the listed items (for "Sync" on a changed source).
    from wagtail_localize.models import TranslationSource

    changed = [t.source.translation_key for t in found if "source_changed" in t.reasons]
    sync_sources = dict(
        TranslationSource.objects.filter(object_id__in=changed).values_list("object_id", "pk")
        if changed
        else []
    )

    # The wagtail-localize translations of the listed items (for "Submit for review").
    from wagtail_localize.models import Translation

    # (Of every listed translation, not only the submittable ones: one query whatever the states.)
    translated = [t.source.translation_key for t in found if t.translation_id]
    translation_ids = dict(
        Translation.objects.filter(
            source__object_id__in=translated, target_locale=locale
        ).values_list("source__object_id", "pk")
    )

    # Who may do what is the policy's to say; it answers per locale for translating, and per
    # translation page for uploads (Wagtail's page permissions, cached per user).
    labels = dict(TranslationTask.State.choices)
    default = Locale.get_default()
    # Master document / image and cover rows (localized asset files), a fixed number of queries.
    assets = asset_task_files(
        [(t.source_id, t.translation_id) for t in found],
        may_upload=lambda page: translation_policy.can_upload_localized_file(user, page),
    )
    rows = []
    for task in found:
        # Every source is in the default locale, every translation in ``locale``: known here,
        # so the policy's questions need no query for them.
        task.source.locale = default
        translation = task.translation
        if translation is not None:
            translation.locale = locale
        may_upload = translation is not None and translation_policy.can_upload_localized_file(
            user, translation
        )
        files = []
        for master in masters.get(task.source_id, []):
            loc = None
            upload_url = confirm_url = None
            if translation is not None:
                loc = localized.get((translation.pk, master.pk))
                if may_upload:
                    upload_url = reverse(
                        "portal_localized_file_upload", args=[translation.pk, master.pk]
                    )
            stale = loc is not None and loc.master_sha256 != master.document.sha256
            if loc is not None and stale and may_upload:
                confirm_url = reverse("portal_localized_file_confirm", args=[loc.pk])
            files.append(TaskFile(master, loc, stale, upload_url, confirm_url))
        files += assets.get((task.source_id, task.translation_id), [])
        translate_url = sync_url = None
        may_translate = translation_policy.can_translate(user, task.source, locale)
        if translation is None and may_translate:
            # Opened from a locale's task list: that locale is ticked already (wagtail-localize's
            # select_locale), not an unticked box to find.
            translate_url = (
                reverse("portal_submit_page_translation", args=[task.source_id])
                + "?"
                + urlencode({"select_locale": locale.language_code})
            )
        sync_source = sync_sources.get(task.source.translation_key)
        if translation is not None and sync_source is not None and may_translate:
            sync_url = reverse("portal_update_translations", args=[sync_source])
        submit_url = None
        translation_id = translation_ids.get(task.source.translation_key)
        if (
            translation_id and task.state in SUBMITTABLE and may_upload
        ):  # may edit this translation (same question)
            submit_url = reverse("portal_translation_submit", args=[translation_id])
        rows.append(
            TaskRow(
                task,
                str(labels.get(task.state, task.state)),
                reverse("wagtailadmin_pages:edit", args=[task.source_id]),
                reverse("wagtailadmin_pages:edit", args=[translation.pk]) if translation else None,
                translate_url,
                files,
                sync_url,
                reverse("portal_localized_files", args=[translation.pk])
                if translation is not None and may_upload
                else None,
                submit_url,
            )
        )

    since = timezone.localdate() - timedelta(days=days)
    history = list(CoverageSnapshot.objects.filter(locale=locale, day__gte=since).order_by("day"))
    return LocaleDashboard(
        locale=locale,
        locales=locales,
        counts=counts,
        total=total,
        coverage=round(100 * counts["done"] / total) if total else 100,
        state=state,
        rows=rows,
        page=page,
        has_next=has_next,
        chart=coverage_chart(history) if history else None,
        history=history,
    )
