"""The admin's file versions (issue #12, docs/file-versions.md): a file's "Versions" history,
"Upload new version", "Restore", a staff download of any version and the admin-only "Delete
version". Every view asks ``permissions.policies.files.document_policy`` first.

A new or restored version changes nothing for partners: the editor picks the items that adopt
it, each gets a draft revision (``kb.versions.attachment_version_adopt``) submitted to its
workflow, and it goes live when a moderator approves and publishes that revision.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView, TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import AdminDateTimeInput
from wagtail.documents.views.documents import IndexView as WagtailDocumentIndexView

from files.models import PortalDocument
from files.serving import serve_stored_file
from files.uploads import StoredFiles
from files.validation import UploadRejected
from files.versions import (
    document_newest_versions,
    document_version_add,
    document_version_rollback,
    document_versions,
)
from permissions.policies.files import document_policy

from .services import document_version_delete
from .versions import FileUse, attachment_version_adopt, file_uses

# One page of history, as Wagtail's own listings: the view's queries and its rendering do not
# grow with the history (bench/download.py: 1,000 versions within 1.5x of one).
VERSIONS_PER_PAGE = 20


def editor_time_zone(user: Any) -> zoneinfo.ZoneInfo:
    """The editor's time zone in these views: the one chosen in Wagtail's account settings, else
    the portal profile's (accounts.User.time_zone), else UTC. Wagtail's admin would otherwise
    fall back to the server's zone for everyone who never opened its account settings."""
    profile = getattr(user, "wagtail_userprofile", None)
    name = (getattr(profile, "current_time_zone", "") or "") or getattr(user, "time_zone", "")
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class _LineageView(WagtailAdminTemplateMixin, TemplateView):
    """A view of one file (``lineage``); staff only (``can_see_versions``), more per view."""

    header_icon = "doc-full-inverse"

    def allowed(self) -> bool:
        return document_policy.can_see_versions(self.request.user)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.allowed():
            raise PermissionDenied
        with timezone.override(editor_time_zone(request.user)):
            response: Any = super().dispatch(request, *args, **kwargs)
            # Rendered here, in the editor's zone (dates shown and read by the forms).
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response  # type: ignore[no-any-return]

    @cached_property
    def lineage(self) -> int:
        return int(self.kwargs["lineage"])

    @cached_property
    def newest(self) -> PortalDocument:
        newest = document_versions(self.lineage).first()
        if newest is None:
            raise Http404
        return newest

    @cached_property
    def version(self) -> PortalDocument:
        version = (
            PortalDocument.objects.filter(
                lineage=self.lineage, pk=self.kwargs["version_id"], deleted_at__isnull=True
            )
            .select_related("uploaded_by_user")
            .first()
        )
        if version is None:
            raise Http404
        return version

    def versions_url(self) -> str:
        return reverse("portal_file_versions", args=[self.lineage])

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtaildocs:index"), "label": _("Documents")},
            {"url": self.versions_url(), "label": _("Versions of “%s”") % self.newest.title},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["newest"] = self.newest
        context["lineage"] = self.lineage
        context["versions_url"] = self.versions_url()
        if "version_id" in self.kwargs:  # the views of one version (adopt, restore, delete)
            context["version"] = self.version
        return context


class FileVersionsView(_LineageView):
    """ "Versions": the history (paginated) and, per item using the file, its live and pending
    version with links to the page editor and the revision compare."""

    template_name = "kb/admin/file_versions.html"

    def get_page_title(self) -> str:
        return _("Versions")

    def get_page_subtitle(self) -> str:
        return self.newest.title

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtaildocs:index"), "label": _("Documents")},
            {"url": "", "label": _("Versions of “%s”") % self.newest.title},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        paginator = Paginator(
            document_versions(self.lineage).select_related("uploaded_by_user", "rollback_of"),
            VERSIONS_PER_PAGE,
        )
        page = paginator.get_page(self.request.GET.get("p"))
        # Each row's action links from one reversed prefix (not four URL reversals per row).
        base = self.versions_url()
        for version in page:
            prefix = f"{base}{version.pk}/"
            version.action_urls = {  # type: ignore[attr-defined]
                action: f"{prefix}{action}/"
                for action in ("download", "adopt", "restore", "delete")
            }
        uses = file_uses(self.lineage)
        context.update(
            versions=page,
            paginator=paginator,
            uses=uses,
            live_ids={use.live.pk for use in uses if use.is_live and use.live is not None},
            pending_ids={use.pending.pk for use in uses if use.pending is not None},
            can_add=document_policy.can_add_version(user),
            can_download=document_policy.can_download_any_version(user),
            can_delete=document_policy.can_delete_version(user),
        )
        return context


class AdoptForm(forms.Form):
    """Which items adopt the version, and whether their revisions go to approval now."""

    pages = forms.MultipleChoiceField(
        label=gettext_lazy("Items that adopt it"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Each gets a draft with this version; partners keep the live version until the "
            "draft is approved and published."
        ),
    )
    submit_for_approval = forms.BooleanField(
        label=gettext_lazy("Submit for approval"), required=False, initial=True
    )

    def __init__(self, *args: Any, uses: list[FileUse], user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {
            str(use.page.pk): use
            for use in uses
            if use.uses_latest and document_policy.can_propose_version(user, use.page)
        }
        pages = cast(forms.MultipleChoiceField, self.fields["pages"])
        pages.choices = [
            (key, use.page.get_admin_display_title()) for key, use in self.offered.items()
        ]
        # By default every item whose latest revision uses the file adopts it.
        pages.initial = list(self.offered)

    def chosen_pages(self) -> list[Any]:
        return [self.offered[key].page for key in self.cleaned_data.get("pages") or []]


class VersionUploadForm(AdoptForm):
    """ "Upload new version": the file is checked by the files app when it is added."""

    file = forms.FileField(label=gettext_lazy("File"))
    label = forms.CharField(
        label=gettext_lazy("Version label"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("e.g. v3 or 2026.2"),
    )
    notes = forms.CharField(
        label=gettext_lazy("What changed"), required=False, widget=forms.Textarea({"rows": 3})
    )
    go_live_at = forms.DateTimeField(
        label=gettext_lazy("Go live at"),
        required=False,
        widget=AdminDateTimeInput,
        help_text=gettext_lazy("Optional; in your time zone. The items' drafts go live then."),
    )
    expire_at = forms.DateTimeField(
        label=gettext_lazy("Expire at"),
        required=False,
        widget=AdminDateTimeInput,
        help_text=gettext_lazy(
            "Optional; in your time zone. After it partners are no longer served this version."
        ),
    )
    field_order = [
        "file",
        "label",
        "notes",
        "go_live_at",
        "expire_at",
        "pages",
        "submit_for_approval",
    ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        go_live, expire = data.get("go_live_at"), data.get("expire_at")
        if expire is not None and expire <= (go_live or timezone.now()):
            self.add_error(
                "expire_at",
                _("The expiry must be later than the go-live time and than now."),
            )
        return data


def _adopted_message(request: HttpRequest, version: PortalDocument, done: list[Any]) -> None:
    if not done:
        messages.success(
            request,
            _("%(version)s added. No item adopts it yet.") % {"version": version.version_name},
        )
        return
    submitted = sum(1 for row in done if row.workflow_state is not None)
    messages.success(
        request,
        _(
            "%(version)s proposed to %(count)d item(s); %(submitted)d submitted for approval. "
            "Partners keep the live version until it is approved."
        )
        % {"version": version.version_name, "count": len(done), "submitted": submitted},
    )


class _AdoptingView(_LineageView):
    """A view that ends by proposing a version to the items the editor picked."""

    form_class: type[AdoptForm] = AdoptForm

    def allowed(self) -> bool:
        return document_policy.can_add_version(self.request.user)

    @cached_property
    def uses(self) -> list[FileUse]:
        return file_uses(self.lineage)

    def get_form(self) -> AdoptForm:
        if self.request.method == "POST":
            return self.form_class(
                self.request.POST, self.request.FILES, uses=self.uses, user=self.request.user
            )
        return self.form_class(uses=self.uses, user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.get_form())
        context["uses"] = self.uses
        return context

    def adopt(self, form: AdoptForm, version: PortalDocument) -> None:
        done = attachment_version_adopt(
            version=version,
            pages=form.chosen_pages(),
            user=self.request.user,
            submit=bool(form.cleaned_data.get("submit_for_approval")),
        )
        _adopted_message(self.request, version, done)


class FileVersionAddView(_AdoptingView):
    """ "Upload new version"."""

    template_name = "kb/admin/file_version_add.html"
    form_class = VersionUploadForm

    def get_page_title(self) -> str:
        return _("Upload new version")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_valid():
            upload = form.cleaned_data["file"]
            stored = StoredFiles()
            try:
                with transaction.atomic():
                    version = document_version_add(
                        self.newest,
                        name=upload.name or "",
                        content=upload.read(),
                        label=form.cleaned_data["label"],
                        notes=form.cleaned_data["notes"],
                        user=request.user,
                        go_live_at=form.cleaned_data["go_live_at"],
                        expire_at=form.cleaned_data["expire_at"],
                        stored=stored,
                    )
                    self.adopt(form, version)
            except UploadRejected as exc:
                form.add_error("file", exc)
            except BaseException:
                # The row was rolled back: its stored object must not stay behind.
                stored.discard()
                raise
            else:
                return redirect(self.versions_url())
        messages.error(request, _("The version could not be added: see the errors below."))
        return self.render_to_response(self.get_context_data(form=form))


class FileVersionAdoptView(_AdoptingView):
    """Propose an existing version to items (after an upload that skipped some)."""

    template_name = "kb/admin/file_version_adopt.html"

    def get_page_title(self) -> str:
        return _("Propose %(version)s to items") % {"version": self.version.version_name}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_valid():
            self.adopt(form, self.version)
            return redirect(self.versions_url())
        return self.render_to_response(self.get_context_data(form=form))


class FileVersionRestoreView(_AdoptingView):
    """ "Restore": an older version's bytes become a NEW version (history is never rewritten),
    proposed to the items like an upload."""

    template_name = "kb/admin/file_version_restore.html"

    def get_page_title(self) -> str:
        return _("Restore %(version)s") % {"version": self.version.version_name}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_valid():
            try:
                with transaction.atomic():
                    version = document_version_rollback(self.version, user=request.user)
                    self.adopt(form, version)
            except UploadRejected as exc:
                messages.error(
                    request,
                    _("%(version)s cannot be restored: %(reason)s")
                    % {"version": self.version.version_name, "reason": " ".join(exc.messages)},
                )
                return self.render_to_response(self.get_context_data(form=form))
            return redirect(self.versions_url())
        return self.render_to_response(self.get_context_data(form=form))


class FileVersionDownloadView(_LineageView):
    """Staff download of any version (older, pending, expired): ``can_download_any_version``."""

    def allowed(self) -> bool:
        return document_policy.can_download_any_version(self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.version
        response: Any = serve_stored_file(
            version.file.name, version.file.storage, filename=version.filename, as_attachment=True
        )
        return response  # type: ignore[no-any-return]


class FileVersionDeleteView(_LineageView):
    """ "Delete version" (superusers: ``can_delete_version``): a confirmation page, then
    ``kb.services.document_version_delete``, which refuses a version an item uses."""

    template_name = "kb/admin/file_version_delete.html"

    def allowed(self) -> bool:
        return document_policy.can_delete_version(self.request.user)

    def get_page_title(self) -> str:
        return _("Delete %(version)s") % {"version": self.version.version_name}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.version
        name = version.version_name
        try:
            document_version_delete(version)
        except ValueError:
            titles = [
                use.page.get_admin_display_title()
                for use in file_uses(self.lineage)
                if version in (use.live, use.pending)
            ]
            messages.error(
                request,
                _(
                    "%(version)s is not deleted: it is in use (%(items)s). Propose another "
                    "version to those items and publish it first."
                )
                % {"version": name, "items": ", ".join(titles) or _("an item's latest draft")},
            )
            return redirect(self.versions_url())
        if not document_versions(self.lineage).exists():
            messages.success(request, _("%(version)s deleted.") % {"version": name})
            return redirect(reverse("wagtaildocs:index"))
        messages.success(request, _("%(version)s deleted.") % {"version": name})
        return redirect(self.versions_url())


class DocumentIndexView(WagtailDocumentIndexView):
    """Wagtail's documents listing, one row per file (its newest version): the older versions
    are in the file's "Versions" history."""

    def get_base_queryset(self) -> Any:
        return document_newest_versions(super().get_base_queryset())

    @cached_property
    def columns(self) -> list[Any]:
        # "Versions": the newest version's number, linking to the file's history.
        return [
            *super().columns,
            TitleColumn(
                "version_name",
                label=_("Versions"),
                get_url=lambda doc: reverse("portal_file_versions", args=[doc.lineage or doc.pk]),
            ),
        ]


class DocumentDeleteRedirectView(RedirectView):
    """Wagtail's document "Delete" URL: deleting a document deletes a version of a file, so it
    is the "Delete version" view (superusers, a confirmation, refused while in use)."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        document = PortalDocument.objects.filter(pk=kwargs["document_id"]).first()
        if document is None:
            raise Http404
        return reverse(
            "portal_file_version_delete", args=[document.lineage or document.pk, document.pk]
        )
