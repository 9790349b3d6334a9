"""Wagtail admin: a product sheet's "Versions" (its published versions, newest first), each
linked to Wagtail's revision compare view (field by field) with the previous version, and a
"compare any two" picker. Staff with Wagtail's own right to see the page's revisions reach it
(the same check as Wagtail's history and compare views); partners never reach the admin."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .models import ProductSheetPage, ProductSheetVersion

PAGE_SIZE = 50


def compare_url(page_id: int, older: ProductSheetVersion, newer: ProductSheetVersion) -> str:
    """Wagtail's field-by-field compare of two recorded versions' revisions."""
    return reverse(
        "wagtailadmin_pages:revisions_compare",
        args=[page_id, older.revision_id, newer.revision_id],
    )


class ProductSheetVersionsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "kb/admin/sheet_versions.html"
    page_title = gettext_lazy("Versions")
    header_icon = "history"

    def dispatch(self, request, *args, **kwargs):
        self.sheet = get_object_or_404(ProductSheetPage, pk=kwargs["page_id"])
        if not self.sheet.permissions_for_user(request.user).can_view_revisions():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        a, b = request.GET.get("a"), request.GET.get("b")
        if a and b:  # "Compare": two picked versions, older first
            picked = list(
                ProductSheetVersion.objects.filter(
                    page=self.sheet, pk__in=[a, b], revision__isnull=False
                ).order_by("published_at", "pk")
            )
            if len(picked) != 2:
                raise Http404
            return HttpResponseRedirect(compare_url(self.sheet.pk, picked[0], picked[1]))
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.sheet.get_admin_display_title()

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailadmin_pages:edit", args=[self.sheet.pk]),
                "label": self.sheet.get_admin_display_title(),
            },
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        history = ProductSheetVersion.objects.filter(page=self.sheet).select_related("published_by")
        page = Paginator(history, PAGE_SIZE).get_page(self.request.GET.get("p"))
        # One row beyond the page: the previous version of the page's last (oldest) row.
        offset = page.start_index() - 1 if page.paginator.count else 0
        rows = list(history[offset : offset + PAGE_SIZE + 1])
        entries = []
        for n, entry in enumerate(rows[:PAGE_SIZE]):
            previous = rows[n + 1] if n + 1 < len(rows) else None
            entries.append(
                {
                    "entry": entry,
                    "previous": previous,
                    "compare_url": compare_url(self.sheet.pk, previous, entry)
                    if previous is not None and previous.revision_id and entry.revision_id
                    else "",
                    "revision_url": reverse(
                        "wagtailadmin_pages:revisions_view",
                        args=[self.sheet.pk, entry.revision_id],
                    )
                    if entry.revision_id
                    else "",
                }
            )
        context.update(
            sheet=self.sheet,
            entries=entries,
            page_obj=page,
            # The picker: every version with a revision (labels and dates only).
            choices=list(
                ProductSheetVersion.objects.filter(
                    page=self.sheet, revision__isnull=False
                ).values_list("pk", "version_label", "published_at")
            ),
            no_revision_note=_("No revision to compare (recorded before versions were kept)."),
        )
        return context


class SheetVersionsButton(PageMenuItem):
    """ "Versions" in a product sheet's header menu and page listing's "More" menu."""

    label = gettext_lazy("Versions")
    icon_name = "list-ol"
    url_name = "kb_sheet_versions"

    def is_shown(self, user):
        return (
            issubclass(self.page.specific_class or type(self.page), ProductSheetPage)
            and self.page.permissions_for_user(user).can_view_revisions()
        )
