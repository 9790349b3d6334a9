"""A panel of the page editor's Files tab: each attachment's file, which version partners get
(live) and the newest version uploaded, with a link to the file's "Versions" view."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from wagtail.admin.panels import Panel


class AttachmentVersionPanel(Panel):
    """Read-only: the file itself changes by "Upload new version" (kb.admin_views), not here.
    A few queries per attachment (an item has a handful), none when the row is new."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "kb/admin/attachment_version_panel.html"

        def get_context_data(self, parent_context: Any = None) -> Any:
            from files.versions import document_version_latest

            from .models import ItemAttachment

            context = super().get_context_data(parent_context)
            attachment = self.instance
            document = getattr(attachment, "document", None) if attachment.document_id else None
            context["document"] = document
            if document is None:
                return context
            lineage = document.lineage or document.pk
            live = None
            page_id = getattr(attachment, "page_id", None)
            if page_id is not None:
                row = (
                    ItemAttachment.objects.filter(
                        page_id=page_id, page__live=True, document__lineage=lineage
                    )
                    .select_related("document")
                    .first()
                )
                live = row.document if row is not None else None
            context.update(
                live=live,
                newest=document_version_latest(lineage),
                versions_url=reverse("portal_file_versions", args=[lineage]),
                add_url=reverse("portal_file_version_add", args=[lineage]),
            )
            return context
