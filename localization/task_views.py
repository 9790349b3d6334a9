"""Admin views of translation tasks: the per-locale dashboard, localized file upload/confirm.

Each view asks permissions.policies.localization first (``translation_policy``) and refuses
with "not allowed" (403) what the user may not do; the work is done by kb.services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.models import Locale

from kb.models import ItemAttachment, PortalItemPage
from kb.placements import item_region_key
from kb.selectors import translation_source
from kb.services import document_create, localized_file_attach, localized_file_confirm
from permissions.policies.localization import translation_policy

from .selectors import dashboard_locales, locale_dashboard


def translations_index(request: HttpRequest) -> HttpResponse:
    """The first locale's dashboard the user may see."""
    locales = dashboard_locales(user=request.user)
    if not locales:
        raise PermissionDenied
    return redirect("portal_translations_locale", code=locales[0].language_code)


def translations_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    """Counts per state, the tasks and the coverage chart of one locale."""
    locale = get_object_or_404(Locale, language_code=code.lower())
    locales = dashboard_locales(user=request.user)
    if locale not in locales:
        raise PermissionDenied
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    dashboard = locale_dashboard(
        user=request.user, locale=locale, state=request.GET.get("state"), page=page, locales=locales
    )
    return TemplateResponse(
        request, "localization/dashboard.html", {"dashboard": dashboard, "locale": locale}
    )


class LocalizedFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Localized file"))
    title = forms.CharField(
        label=gettext_lazy("Title"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Empty: the original file's title."),
    )


def _translation_and_master(
    request: HttpRequest, translation_id: int, master_id: int
) -> tuple[PortalItemPage, ItemAttachment]:
    translation = get_object_or_404(PortalItemPage, pk=translation_id).specific
    if not translation_policy.can_upload_localized_file(request.user, translation):
        raise PermissionDenied
    source = translation_source(translation)
    master = get_object_or_404(
        ItemAttachment.objects.select_related("document"),
        pk=master_id,
        page_id=source.pk if source is not None else -1,
        master__isnull=True,
    )
    return translation, master


def localized_files(request: HttpRequest, translation_id: int) -> HttpResponse:
    """The source's files of one translation, each with its localized file (or none), whether
    it is out of date, and the upload / confirm actions."""
    translation = get_object_or_404(PortalItemPage, pk=translation_id).specific
    if not translation_policy.can_upload_localized_file(request.user, translation):
        raise PermissionDenied
    source = translation_source(translation)
    if source is None:
        raise PermissionDenied
    localized = {
        att.master_id: att
        for att in ItemAttachment.objects.filter(
            page=translation, master__isnull=False
        ).select_related("document")
    }
    rows = []
    for master in source.attachments.select_related("document").order_by("sort_order", "pk"):
        loc = localized.get(master.pk)
        stale = loc is not None and loc.master_sha256 != master.document.sha256
        rows.append(
            {
                "master": master,
                "localized": loc,
                "out_of_date": stale,
                "upload_url": reverse(
                    "portal_localized_file_upload", args=[translation.pk, master.pk]
                ),
                "confirm_url": reverse("portal_localized_file_confirm", args=[loc.pk])
                if stale and loc is not None
                else None,
            }
        )
    return TemplateResponse(
        request,
        "localization/localized_files.html",
        {
            "translation": translation,
            "source": source,
            "rows": rows,
            "pending": translation.has_unpublished_changes,
        },
    )


def localized_file_upload(
    request: HttpRequest, translation_id: int, master_id: int
) -> HttpResponse:
    """Upload the translation's file for one of its source's files. It becomes part of a new
    draft revision of the translation, which goes live after review like any change."""
    translation, master = _translation_and_master(request, translation_id, master_id)
    form = LocalizedFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = document_create(
                name=upload.name,
                content=upload.read(),
                title=form.cleaned_data["title"] or master.title or master.document.title,
                region_key=item_region_key(translation),
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            localized_file_attach(
                translation=translation,
                master=master,
                document=document,
                user=request.user,
                title=form.cleaned_data["title"],
            )
            messages.success(
                request,
                _(
                    "The localized file is in a new draft of this translation; submit it for "
                    "review to publish it."
                ),
            )
            return redirect("wagtailadmin_pages:edit", translation.pk)
    return TemplateResponse(
        request,
        "localization/localized_file_upload.html",
        {"form": form, "translation": translation, "master": master},
    )


@require_POST
def localized_file_confirm_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Confirm that a localized file still fits its (changed) original."""
    attachment = get_object_or_404(
        ItemAttachment.objects.select_related("page"), pk=attachment_id, master__isnull=False
    )
    translation = attachment.page
    if not translation_policy.can_upload_localized_file(request.user, translation):
        raise PermissionDenied
    localized_file_confirm(attachment=attachment, user=request.user)
    messages.success(request, _("The localized file is marked as up to date."))
    return redirect(
        "portal_translations_locale",
        code=Locale.objects.get(pk=translation.locale_id).language_code,
    )


def dashboard_url(locale: Locale) -> str:
    return reverse("portal_translations_locale", args=[locale.language_code])


def urlpatterns() -> list[Any]:
    from django.urls import path

    return [
        path("translations/", translations_index, name="portal_translations"),
        path(
            "translations/<str:code>/",
            translations_dashboard,
            name="portal_translations_locale",
        ),
        path(
            "translations/pages/<int:translation_id>/files/",
            localized_files,
            name="portal_localized_files",
        ),
        path(
            "translations/pages/<int:translation_id>/files/<int:master_id>/",
            localized_file_upload,
            name="portal_localized_file_upload",
        ),
        path(
            "translations/files/<int:attachment_id>/confirm/",
            localized_file_confirm_view,
            name="portal_localized_file_confirm",
        ),
    ]
