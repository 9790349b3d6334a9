"""Admin hooks of translation tasks: the "Translations" menu item, its URLs and a panel on the
Wagtail dashboard (home) with the user's locales' counts. Registered from AppConfig.ready."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from . import task_views


class TranslationsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        from .selectors import dashboard_locales

        return bool(dashboard_locales(user=request.user))


class TranslationTasksPanel(Component):
    """Per locale of the user: tasks per state, with a link to the locale's dashboard."""

    name = "translation_tasks"
    template_name = "localization/home_panel.html"
    order = 90

    def __init__(self, locales: list[Any]) -> None:
        self.locales = locales

    def get_context_data(self, parent_context: Any) -> dict[str, Any]:
        from .models import TranslationTask
        from .selectors import STATE_ORDER, task_counts, task_scope_q

        user = parent_context["request"].user
        counts = task_counts(locales=self.locales, scope=task_scope_q(user=user))
        labels = dict(TranslationTask.State.choices)
        return {
            "states": [(state, labels[state]) for state in STATE_ORDER],
            "rows": [
                {
                    "locale": locale,
                    "url": task_views.dashboard_url(locale),
                    "counts": [counts[locale.pk][state] for state in STATE_ORDER],
                    "open": sum(counts[locale.pk][s] for s in STATE_ORDER if s != "done"),
                }
                for locale in self.locales
            ],
        }


def register() -> None:
    """Connect the hooks (once)."""

    @hooks.register("register_admin_urls")
    def register_admin_urls() -> list[Any]:
        return task_views.urlpatterns()

    @hooks.register("register_admin_menu_item")
    def register_menu_item() -> MenuItem:
        return TranslationsMenuItem(
            _("Translations"), reverse("portal_translations"), icon_name="globe", order=250
        )

    @hooks.register("register_page_header_buttons")
    def localized_files_button(
        page: Any, user: Any, view_name: Any = None, next_url: Any = None
    ) -> Any:
        """ "Localized files" on an item's translation, for those who may upload them."""
        from wagtail.admin.widgets import ListingButton

        from kb.models import PortalItemPage
        from permissions.policies.localization import translation_policy

        if not isinstance(page, PortalItemPage):
            return
        if not translation_policy.can_upload_localized_file(user, page):
            return
        yield ListingButton(
            _("Localized files"),
            reverse("portal_localized_files", args=[page.pk]),
            priority=66,
            icon_name="doc-full",
        )

    @hooks.register("construct_homepage_panels")
    def add_tasks_panel(request: Any, panels: list[Any]) -> None:
        from permissions.policies.principal import principal_for

        from .selectors import dashboard_locales

        # The marketers' home: their locales' work first. Editors find it in the menu.
        if not principal_for(request.user).is_marketer:
            return
        locales = dashboard_locales(user=request.user)
        if locales:
            panels.append(TranslationTasksPanel(locales))
