"""Admin panels of kb's pages."""

from __future__ import annotations

from typing import Any

from wagtail.admin.panels import Panel


class SheetVersionsPanel(Panel):
    """Next to the version label: the sheet's published versions (the latest few) and the link
    to all of them, where staff compare any two (kb.admin_views)."""

    LATEST = 3

    class BoundPanel(Panel.BoundPanel):
        template_name = "kb/panels/sheet_versions.html"

        def get_context_data(self, parent_context: dict[str, Any] | None = None) -> dict[str, Any]:
            from django.urls import reverse

            from .models import ProductSheetVersion

            context: dict[str, Any] = super().get_context_data(parent_context)
            page = self.instance
            if page is None or page.pk is None:
                context["versions"] = []
                return context
            rows = list(
                ProductSheetVersion.objects.filter(page_id=page.pk).only(
                    "version_label", "published_at"
                )[: SheetVersionsPanel.LATEST + 1]
            )
            context["versions"] = rows[: SheetVersionsPanel.LATEST]
            context["more"] = len(rows) > SheetVersionsPanel.LATEST
            context["versions_url"] = reverse("kb_sheet_versions", args=[page.pk])
            return context


class PreviewAsPanel(Panel):
    """ "Preview as": choose an organisation or partner user and see the page as they would in
    the preview panel, from the unsaved form (kb.preview). Shown only to users who may use it
    (permissions.policies.pages.preview_as_choices is empty for everyone else)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "kb/panels/preview_as.html"

        def is_shown(self) -> bool:
            from permissions.policies.pages import page_access_policy

            return page_access_policy.user_has_permission(self.request.user, "preview_as")

        def get_context_data(self, parent_context: dict[str, Any] | None = None) -> dict[str, Any]:
            from django.urls import reverse

            from permissions.policies.pages import preview_as_choices

            from .preview import PREVIEW_AS_MODE, SESSION_KEY

            context: dict[str, Any] = super().get_context_data(parent_context)
            context["choices"] = preview_as_choices(self.request.user)
            context["current"] = self.request.session.get(SESSION_KEY, "")
            context["set_url"] = reverse("kb_preview_as")
            context["mode"] = PREVIEW_AS_MODE
            return context

        @property
        def media(self) -> Any:
            from django import forms

            return forms.Media(js=["kb/admin/preview-as.js"])
