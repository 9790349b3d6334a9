"""A read-only panel of the page editor: a file's version in this draft, the version partners
get (live) and the newest version uploaded, with links to the file's "Versions" view and
"Upload new version" (kb.version_admin_views). On the Files tab under each attachment, and under a
marketing asset's master document."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from wagtail.admin.panels import Panel


class FileVersionPanel(Panel):
    """The file in the instance's ``field`` (an ItemAttachment's ``document``, a marketing
    asset's ``master_document``). The file itself changes by "Upload new version", not here.
    Two queries per file shown (an item has a handful), none for a new empty row."""

    def __init__(self, field: str = "document", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.field = field

    def clone_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().clone_kwargs()
        kwargs["field"] = self.field
        return kwargs

    class BoundPanel(Panel.BoundPanel):
        template_name = "kb/admin/file_version_panel.html"

        def get_context_data(self, parent_context: Any = None) -> Any:
            from files.versions import document_version_latest

            context = super().get_context_data(parent_context)
            field = self.panel.field
            document = (
                getattr(self.instance, field, None)
                if getattr(self.instance, f"{field}_id", None)
                else None
            )
            context["document"] = document
            if document is None:
                return context
            lineage = document.lineage or document.pk
            context.update(
                live=self._live(lineage),
                newest=document_version_latest(lineage),
                versions_url=reverse("portal_file_versions", args=[lineage]),
                add_url=reverse("portal_file_version_add", args=[lineage]),
            )
            return context

        def _live(self, lineage: int) -> Any:
            """The version of the file the published page uses (its rows are the published
            state; the editor's instance is the latest revision)."""
            from files.models import PortalDocument

            from .models import ItemAttachment, MarketingAssetPage

            if self.panel.field == "document":
                page_id = getattr(self.instance, "page_id", None)
                if page_id is None:
                    return None
                used = ItemAttachment.objects.filter(
                    page_id=page_id, page__live=True, document__lineage=lineage
                ).values("document_id")
            else:
                if self.instance.pk is None:
                    return None
                used = MarketingAssetPage.objects.filter(
                    pk=self.instance.pk, live=True, master_document__lineage=lineage
                ).values("master_document_id")
            return PortalDocument.objects.filter(pk__in=used).first()
