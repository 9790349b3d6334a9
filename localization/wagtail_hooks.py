"""Admin hooks of the translation workflows.

* The marketers' boundaries in Wagtail's page views, asking
  ``permissions.policies.localization.translation_policy``. Wagtail's own page permissions (the
  per-locale groups) already refuse most of this; the hooks add what the portal decides on top:
  marketers never publish, unpublish, move or delete live pages, and translations are published
  only through their review workflow.
* wagtail-localize's Translate and Sync views, replaced at the same URLs by subclasses that
  offer and accept only the target locales the user may translate into (localization.views).
* The XLIFF download/upload views beside wagtail-localize's translation editor.
* The portal's site structure: each translation home gets its marketers' group and the
  "Translation review" workflow (the ``portal_site_structure_ensured`` hook of kb).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.admin.widgets import ListingButton
from wagtail.models import Locale, Page
from wagtail_localize.models import Translation

from permissions.policies.localization import translation_policy

from . import views
from .services import marketer_group_ensure, translation_workflow_ensure


@hooks.register("portal_site_structure_ensured")
def site_structure_translations(homes: dict[str, Any]) -> None:
    """Every translation home gets its marketers' group and the translation review workflow."""
    translation_workflow_ensure(homes=homes.values())
    default = Locale.get_default()
    for code, home in homes.items():
        if home.locale_id != default.pk:
            marketer_group_ensure(locale=code)


# Before wagtail-localize's own before_edit_page (which answers with its translation editor).
@hooks.register("before_edit_page", order=-10)
def refuse_edit_outside_locales(request: Any, page: Any) -> None:
    if not translation_policy.can_edit_locale(request.user, page.locale):
        raise PermissionDenied
    # The translation editor's "Publish" posts {"action": "publish"} to the edit URL.
    if (
        request.method == "POST"
        and request.POST.get("action") == "publish"
        and not translation_policy.can_publish(request.user, page)
    ):
        raise PermissionDenied


@hooks.register("before_bulk_action", order=-10)
def refuse_bulk(request: Any, action_type: str, objects: Any, action: Any) -> None:
    """The page listing's bulk publish/unpublish/delete/move ask the same questions."""
    if getattr(action, "model", None) is None or not issubclass(action.model, Page):
        return
    destination = None
    if action_type == "move":
        form = getattr(action, "cleaned_form", None)
        destination = form.cleaned_data.get("chooser") if form is not None else None
    for page in objects:
        if action_type in ("publish", "unpublish"):
            allowed = translation_policy.can_publish(request.user, page)
        elif action_type == "delete":
            allowed = translation_policy.can_delete(request.user, page)
        elif action_type == "move":
            allowed = destination is not None and translation_policy.can_move(
                request.user, page, destination
            )
        else:
            allowed = translation_policy.can_edit_locale(request.user, page.locale)
        if not allowed:
            raise PermissionDenied


@hooks.register("construct_page_action_menu")
def hide_publish_when_refused(menu_items: list[Any], request: Any, context: dict[str, Any]) -> None:
    """No "Publish"/"Unpublish" in the page editor for those the publish hooks would refuse
    (a translation is published by its review workflow's approval, shown as its own action)."""
    page = context.get("page")
    if page is None or not page.pk or translation_policy.can_publish(request.user, page):
        return
    menu_items[:] = [
        item for item in menu_items if item.name not in ("action-publish", "action-unpublish")
    ]


@hooks.register("before_create_page", order=-10)
def refuse_create_outside_locales(request: Any, parent_page: Any, page_class: Any) -> None:
    if not translation_policy.can_create(request.user, parent_page):
        raise PermissionDenied


@hooks.register("before_publish_page", order=-10)
def refuse_publish(request: Any, page: Any) -> None:
    if not translation_policy.can_publish(request.user, page):
        raise PermissionDenied


@hooks.register("before_unpublish_page", order=-10)
def refuse_unpublish(request: Any, page: Any) -> None:
    if not translation_policy.can_publish(request.user, page):
        raise PermissionDenied


@hooks.register("before_delete_page", order=-10)
def refuse_delete(request: Any, page: Any) -> None:
    if not translation_policy.can_delete(request.user, page):
        raise PermissionDenied


@hooks.register("before_move_page", order=-10)
def refuse_move(request: Any, page: Any, destination: Any) -> None:
    if not translation_policy.can_move(request.user, page, destination):
        raise PermissionDenied


@hooks.register("before_copy_page", order=-10)
def refuse_copy(request: Any, page: Any) -> None:
    if not translation_policy.can_copy(request.user, page):
        raise PermissionDenied


@hooks.register("register_page_header_buttons")
@hooks.register("register_page_listing_more_buttons")
def xliff_buttons(page: Any, user: Any, view_name: Any = None, next_url: Any = None) -> Any:
    """ "XLIFF" on a translated page (a wagtail-localize translation's target) for those who
    may edit it: the page to download XLIFF 1.2/2.0 and upload the agency's file."""
    if page.locale_id == Locale.get_default().pk:
        return
    translation = (
        Translation.objects.filter(
            source__object_id=page.translation_key, target_locale_id=page.locale_id
        )
        .only("pk")
        .first()
    )
    if translation is None or not translation_policy.can_edit_translation(user, page):
        return
    url = reverse("portal_xliff_upload", args=[translation.pk])
    if next_url:
        url += "?" + urlencode({"next": next_url})
    yield ListingButton(
        _("Translation: review and XLIFF"), url, priority=65, icon_name="wagtail-localize-language"
    )


# Registered before wagtail-localize's URLs (lower order), so these paths resolve here first.
@hooks.register("register_admin_urls", order=-10)
def register_admin_urls() -> list[Any]:
    return [
        path(
            "localize/submit/page/<int:page_id>/",
            views.SubmitPageTranslationView.as_view(),
            name="portal_submit_page_translation",
        ),
        path(
            "localize/submit/snippet/<slug:app_label>/<slug:model_name>/<str:pk>/",
            views.SubmitSnippetTranslationView.as_view(),
            name="portal_submit_snippet_translation",
        ),
        path(
            "localize/update/<int:translation_source_id>/",
            views.UpdateTranslationsView.as_view(),
            name="portal_update_translations",
        ),
        path(
            "localization/translations/<int:translation_id>/xliff/<str:version>/",
            views.xliff_download,
            name="portal_xliff_download",
        ),
        path(
            "localization/translations/<int:translation_id>/submit/",
            views.translation_submit,
            name="portal_translation_submit",
        ),
        path(
            "localization/translations/<int:translation_id>/xliff/",
            views.xliff_upload,
            name="portal_xliff_upload",
        ),
    ]


@hooks.register("portal_home_panels")
def translation_tasks_home_panel(request: Any, home: Any) -> Any:
    """A regional marketer's portal home: the open translation tasks of his locales (counts
    per state, the first few tasks), linked to each locale's dashboard in the admin. The
    locales are the ones translation_policy lets him edit (``dashboard_locales``)."""
    from django.db.models import Case, IntegerField, Value, When
    from django.utils.translation import gettext_lazy

    from kb.home import STAFF_PANEL_LIMIT, HomePanel
    from permissions.policies.principal import principal_for

    from .models import TranslationTask
    from .selectors import STATE_ORDER, dashboard_locales, task_counts, task_scope_q
    from .task_views import dashboard_url

    if not principal_for(request.user).is_marketer:
        return None
    locales = dashboard_locales(user=request.user)
    if not locales:
        return None
    scope = task_scope_q(user=request.user)
    counts = task_counts(locales=locales, scope=scope)
    labels = dict(TranslationTask.State.choices)
    open_states = [state for state in STATE_ORDER if state != TranslationTask.State.DONE]
    priority = Case(
        *[When(state=s, then=Value(i)) for i, s in enumerate(STATE_ORDER)],
        output_field=IntegerField(),
    )
    tasks = list(
        TranslationTask.objects.filter(locale__in=locales, state__in=open_states)
        .filter(scope)
        .select_related("source", "locale")
        .annotate(priority=priority)
        .order_by("priority", "-updated_at", "pk")[:STAFF_PANEL_LIMIT]
    )
    rows = [
        {
            "locale": locale,
            "url": dashboard_url(locale),
            "open": sum(counts[locale.pk][s] for s in open_states),
            "states": [
                {
                    "label": labels[s],
                    "count": counts[locale.pk][s],
                    "url": f"{dashboard_url(locale)}?{urlencode({'state': s})}",
                }
                for s in open_states
                if counts[locale.pk][s]
            ],
        }
        for locale in locales
    ]
    return HomePanel(
        slot="translations",
        title=gettext_lazy("Your translation tasks"),
        template="localization/portal_home_panel.html",
        context={
            "rows": rows,
            "tasks": [
                {
                    "title": task.source.title,
                    "locale": task.locale,
                    "state": labels[task.state],
                    "reasons": task.reason_labels,
                    "url": f"{dashboard_url(task.locale)}?{urlencode({'state': task.state})}",
                }
                for task in tasks
            ],
        },
        placement="main",
        order=5,
    )
