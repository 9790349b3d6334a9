"""Admin views of the translation workflows.

wagtail-localize's Translate and Sync views check only the global ``submit_translation``
permission; these subclasses (served at the same URLs, see wagtail_hooks) also ask
``translation_policy`` which target locales the user may translate into, and who may publish
while syncing. The XLIFF views sit beside wagtail-localize's PO download/upload.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from wagtail.admin.views.pages.utils import get_valid_next_url_from_request
from wagtail.models import Page
from wagtail_localize.models import Translation
from wagtail_localize.views import submit_translations, update_translations

from permissions.policies.localization import translation_policy

from .services import translation_submit_for_review
from .xliff import VERSIONS, XliffError, xliff_export, xliff_to_po

XLIFF_MAX_BYTES = 5 * 1024 * 1024


class _LocaleScopedSubmitMixin:
    """Offer, and accept, only the target locales ``translation_policy`` allows."""

    request: HttpRequest
    object: Any

    def get_form(self) -> Any:
        form = super().get_form()  # type: ignore[misc]
        allowed = [
            locale.pk
            for locale in translation_policy.translatable_locales(self.request.user, self.object)
        ]
        form.fields["locales"].queryset = form.fields["locales"].queryset.filter(pk__in=allowed)
        return form

    def post(self, request: HttpRequest, **kwargs: Any) -> Any:
        allowed = {
            str(locale.pk)
            for locale in translation_policy.translatable_locales(request.user, self.object)
        }
        if any(value not in allowed for value in request.POST.getlist("locales")):
            raise PermissionDenied
        return super().post(request, **kwargs)  # type: ignore[misc]


class SubmitPageTranslationView(
    _LocaleScopedSubmitMixin, submit_translations.SubmitPageTranslationView
):
    pass


class SubmitSnippetTranslationView(
    _LocaleScopedSubmitMixin, submit_translations.SubmitSnippetTranslationView
):
    pass


class UpdateTranslationsView(update_translations.UpdateTranslationsView):
    """Sync translations from their source: only for a user who may translate into every
    locale it updates, and "publish immediately" only for one who may publish each of them
    (never a marketer: translations are published by their review workflow)."""

    def get_context_data(self, **kwargs: Any) -> Any:
        self._check(publish=False)
        return super().get_context_data(**kwargs)

    def post(self, request: HttpRequest, **kwargs: Any) -> Any:
        self._check(publish=bool(request.POST.get("publish_translations")))
        return super().post(request, **kwargs)

    def _check(self, *, publish: bool) -> None:
        source_instance = self.object.get_source_instance()
        for translation in self.object.translations.filter(enabled=True).select_related(
            "target_locale"
        ):
            if not translation_policy.can_translate(
                self.request.user, source_instance, translation.target_locale
            ):
                raise PermissionDenied
            if publish:
                target = translation.get_target_instance()
                if not isinstance(target, Page) or not translation_policy.can_publish(
                    self.request.user, target
                ):
                    raise PermissionDenied


def _translation_for(request: HttpRequest, translation_id: int) -> tuple[Translation, Any]:
    translation = get_object_or_404(
        Translation.objects.select_related("source", "target_locale"), pk=translation_id
    )
    try:
        instance = translation.get_target_instance()
    except Exception as error:  # noqa: BLE001 - a target that does not exist yet
        raise Http404 from error
    if not translation_policy.can_edit_translation(request.user, instance):
        raise PermissionDenied
    return translation, instance


def xliff_download(request: HttpRequest, translation_id: int, version: str) -> HttpResponse:
    """The translation's strings as XLIFF 1.2 or 2.0 (for an agency)."""
    if version not in VERSIONS:
        raise Http404
    translation, _instance = _translation_for(request, translation_id)
    response = HttpResponse(
        xliff_export(translation, version),  # type: ignore[arg-type]
        content_type="application/xliff+xml; charset=utf-8",
    )
    name = slugify(translation.source.object_repr) or "translation"
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{translation.target_locale.language_code}'
        f'-xliff{version.replace(".", "")}.xlf"'
    )
    return response


@require_http_methods(["GET", "POST"])
def xliff_upload(request: HttpRequest, translation_id: int) -> HttpResponse:
    """Import an agency's XLIFF (1.2 or 2.0) into the translation's strings (a draft: the
    translation is then submitted for review as usual)."""
    translation, instance = _translation_for(request, translation_id)
    next_url = get_valid_next_url_from_request(request) or _edit_url(instance)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None or upload.size > XLIFF_MAX_BYTES:
            messages.error(request, _("Please choose an XLIFF file (at most 5 MB)."))
        else:
            try:
                po = xliff_to_po(translation, upload.read())
            except XliffError:
                messages.error(
                    request,
                    _(
                        "This is not an XLIFF file of this translation. Download the XLIFF "
                        "file of this translation and upload it after editing."
                    ),
                )
            else:
                translation.import_po(po, user=request.user, tool_name="XLIFF")
                messages.success(request, _("Translations imported from the XLIFF file."))
                return redirect(next_url)
    return TemplateResponse(
        request,
        "localization/xliff_upload.html",
        {
            "translation": translation,
            "instance": instance,
            "next_url": next_url,
            "submit_url": (
                reverse("portal_translation_submit", args=[translation.pk])
                if isinstance(instance, Page)
                else None
            ),
            "downloads": [
                (
                    version,
                    reverse("portal_xliff_download", args=[translation.pk, version]),
                )
                for version in VERSIONS
            ],
        },
    )


@require_http_methods(["POST"])
def translation_submit(request: HttpRequest, translation_id: int) -> HttpResponse:
    """ "Submit for review" for a synced page translation (see
    ``services.translation_submit_for_review``)."""
    translation, instance = _translation_for(request, translation_id)
    if not isinstance(instance, Page):
        raise Http404
    try:
        translation_submit_for_review(translation=translation, user=request.user)
    except ValueError:
        messages.error(request, _("This translation cannot be submitted for review."))
    else:
        messages.success(
            request,
            _("The translation was submitted for review. It goes live once it is approved."),
        )
    return redirect(get_valid_next_url_from_request(request) or _edit_url(instance))


def _edit_url(instance: Any) -> str:
    if isinstance(instance, Page):
        return reverse("wagtailadmin_pages:edit", args=[instance.pk])
    return reverse("wagtailadmin_home")
