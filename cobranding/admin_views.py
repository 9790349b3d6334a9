"""The admin side of co-branding: the template editor (zones on a master, with a live preview
rendered with a sample brand kit) and "Identify a file". Who may: ``permissions.policies``
(``cobrand_template_policy``, ``cobrand_identify_policy``); anyone else gets 404.

The editor works without JavaScript: zones are rows of numbers (x/y/width/height in % of the
page, origin top-left); "Preview" renders the unsaved rows, "Save" stores them as the master's
next template version (only once the sample kit renders with them).
"""

from __future__ import annotations

import json

from django import forms
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from files.models import PortalDocument, PortalImage
from kb.models import MarketingAssetPage
from permissions.policies.cobranding import cobrand_identify_policy, cobrand_template_policy

from . import engine
from .identify import NotIdentified, identify_bytes
from .models import MasterKind
from .services import master_template, template_preview, template_save

FIELD_CHOICES = [
    ("name", gettext_lazy("Company name")),
    ("contact_name", gettext_lazy("Contact name")),
    ("contact_phone", gettext_lazy("Phone")),
    ("contact_email", gettext_lazy("E-mail")),
    ("contact_web", gettext_lazy("Web")),
    ("address", gettext_lazy("Address (contact block)")),
]
ALIGN_CHOICES = [
    ("start", gettext_lazy("Start")),
    ("center", gettext_lazy("Centre")),
    ("end", gettext_lazy("End")),
]


class ZoneForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Zone"),
        choices=[("logo", gettext_lazy("Logo box")), ("text", gettext_lazy("Text box"))],
        initial="logo",  # an untouched "Add a zone" form is then unchanged, i.e. skipped
    )
    page = forms.IntegerField(label=gettext_lazy("Page"), min_value=1, initial=1)
    x = forms.FloatField(label=gettext_lazy("Left (%)"), min_value=0, max_value=100)
    y = forms.FloatField(label=gettext_lazy("Top (%)"), min_value=0, max_value=100)
    w = forms.FloatField(label=gettext_lazy("Width (%)"), min_value=0.1, max_value=100)
    h = forms.FloatField(label=gettext_lazy("Height (%)"), min_value=0.1, max_value=100)
    kit_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Brand-kit fields (text boxes)"),
        choices=FIELD_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    font_size = forms.FloatField(
        label=gettext_lazy("Font size"), min_value=4, max_value=400, initial=12
    )
    color = forms.CharField(
        label=gettext_lazy("Colour"),
        initial="secondary",
        max_length=9,
        help_text=gettext_lazy("#rrggbb, or primary / secondary (the partner's colours)"),
    )
    align = forms.ChoiceField(
        label=gettext_lazy("Alignment"), choices=ALIGN_CHOICES, initial="start"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The colour's hint is read out with the input (the template gives it this id).
        self.fields["color"].widget.attrs["aria-describedby"] = self["color"].auto_id + "-help"

    def clean(self):
        data = super().clean()
        if data.get("kind") == "text" and not data.get("kit_fields"):
            raise forms.ValidationError(_("A text box needs at least one brand-kit field."))
        for start, size, label in (("x", "w", _("width")), ("y", "h", _("height"))):
            if data.get(start) is not None and data.get(size) is not None:
                if data[start] + data[size] > 100.0001:
                    raise forms.ValidationError(
                        _("The box reaches past the page (%(what)s).") % {"what": label}
                    )
        return data


ZoneFormSet = forms.formset_factory(ZoneForm, extra=2, can_delete=True)


def zone_formset(rows: list[dict]):
    """The editor's unbound zone forms: ``rows``, then one empty "Add a zone" form (two when
    there are no zones yet: a logo box and a contact box are the usual pair)."""
    formset = forms.formset_factory(ZoneForm, extra=1 if rows else 2, can_delete=True)
    return formset(initial=rows, prefix="zones")


def mark_blank_zones(zones) -> None:
    """``form.is_blank`` on the extra forms nobody filled in (titled "Add a zone")."""
    initial = zones.initial_form_count()
    for index, form in enumerate(zones.forms):
        form.is_blank = index >= initial and (not form.is_bound or not form.has_changed())


class TemplateMetaForm(forms.Form):
    confidential = forms.BooleanField(
        label=gettext_lazy("Confidential"),
        required=False,
        help_text=gettext_lazy("Adds a visible watermark naming the partner."),
    )


def layout_from_rows(rows: list[dict], *, confidential: bool) -> engine.Layout:
    """The engine layout of the editor's cleaned zone rows (deleted rows left out)."""
    logos: list[engine.LogoZone] = []
    texts: list[engine.TextZone] = []
    for row in rows:
        if not row or row.get("DELETE"):
            continue
        box = engine.Box(row["x"] / 100, row["y"] / 100, row["w"] / 100, row["h"] / 100)
        if row["kind"] == "logo":
            logos.append(engine.LogoZone(box, page=row["page"], align=row["align"]))
        else:
            texts.append(
                engine.TextZone(
                    box,
                    fields=tuple(row["kit_fields"]),
                    page=row["page"],
                    font_size=row["font_size"],
                    color=row["color"].strip(),
                    align=row["align"],
                )
            )
    pages = sorted({zone.page for zone in logos} | {zone.page for zone in texts}) or [1]
    return engine.Layout(
        logo_zones=tuple(logos), text_zones=tuple(texts), pages=tuple(pages), watermark=confidential
    )


def rows_from_layout(layout: engine.Layout) -> list[dict]:
    """The editor's initial rows for a saved layout."""

    def box(zone) -> dict:
        return {
            "x": round(zone.box.x * 100, 2),
            "y": round(zone.box.y * 100, 2),
            "w": round(zone.box.w * 100, 2),
            "h": round(zone.box.h * 100, 2),
            "page": zone.page,
            "align": zone.align,
        }

    rows = [{"kind": "logo", **box(zone)} for zone in layout.logo_zones]
    rows += [
        {
            "kind": "text",
            **box(zone),
            "kit_fields": list(zone.fields),
            "font_size": zone.font_size,
            "color": zone.color,
        }
        for zone in layout.text_zones
    ]
    return rows


def _master_file(kind: str, master_id: int):
    """The file the editor previews on: the image, or the newest live version of a lineage."""
    if kind == MasterKind.IMAGE:
        return get_object_or_404(PortalImage, pk=master_id)
    if kind != MasterKind.DOCUMENT:
        raise Http404
    document = (
        PortalDocument.objects.filter(lineage=master_id, deleted_at__isnull=True)
        .order_by("-version_number")
        .first()
    ) or get_object_or_404(PortalDocument, pk=master_id, deleted_at__isnull=True)
    if (document.file_extension or "").lower() != "pdf":
        raise Http404
    return document


def _read(file) -> bytes:
    with file.open_file() as handle:
        return handle.read()


class _TitledCrumbs:
    """The page's own title as the last breadcrumb (else Wagtail's header says only "Home")."""

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


class _TemplateAccess:
    def dispatch(self, request, *args, **kwargs):
        if not cobrand_template_policy.can_edit(request.user):
            raise Http404
        self.kind, self.master_id = kwargs["kind"], kwargs["master_id"]
        self.master = _master_file(self.kind, self.master_id)
        self.template = master_template(kind=self.kind, master_id=self.master_id)
        return super().dispatch(request, *args, **kwargs)


class TemplateEditView(_TitledCrumbs, _TemplateAccess, WagtailAdminTemplateMixin, TemplateView):
    template_name = "cobranding/admin/template_edit.html"
    page_title = gettext_lazy("Co-brand template")
    header_icon = "image"

    def get_page_subtitle(self):
        return self.master.title

    def get(self, request, *args, **kwargs):
        rows, confidential = [], False
        if self.template is not None:
            rows = rows_from_layout(engine.layout_from_json(self.template.layout))
            confidential = self.template.confidential
        zones = zone_formset(rows)
        meta = TemplateMetaForm(initial={"confidential": confidential})
        return self.render_to_response(self.get_context_data(zones=zones, meta=meta))

    def post(self, request, *args, **kwargs):
        zones = ZoneFormSet(request.POST, prefix="zones")
        meta = TemplateMetaForm(request.POST)
        context = {"zones": zones, "meta": meta}
        if zones.is_valid() and meta.is_valid():
            confidential = meta.cleaned_data["confidential"]
            layout = layout_from_rows(zones.cleaned_data, confidential=confidential)
            try:
                # The sample kit must fit before the layout is saved (and for a preview).
                template_preview(
                    kind=self.kind,
                    master=_read(self.master),
                    layout=layout,
                    confidential=confidential,
                )
            except engine.CobrandError as exc:
                context["render_error"] = str(exc)
            else:
                if "save" in request.POST:
                    template = template_save(
                        kind=self.kind,
                        master_id=self.master_id,
                        layout=layout,
                        confidential=confidential,
                        user=request.user,
                    )
                    messages.success(
                        request,
                        _("Template saved as version %(version)s.") % {"version": template.version},
                    )
                    return HttpResponseRedirect(request.path)
                context["preview_layout"] = json.dumps(engine.layout_to_json(layout))
                context["preview_confidential"] = confidential
                # The previewed zones as fresh rows: deleted ones gone, a new empty form at
                # the end (without JavaScript, "Preview" is how one adds another zone).
                context["zones"] = zone_formset(
                    [row for row in zones.cleaned_data if row and not row.get("DELETE")]
                )
        return self.render_to_response(self.get_context_data(**context))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if kwargs.get("zones") is not None:
            mark_blank_zones(kwargs["zones"])
        preview = base = reverse("cobranding_template_preview", args=[self.kind, self.master_id])
        if kwargs.get("preview_layout"):
            from urllib.parse import urlencode

            preview += "?" + urlencode(
                {
                    "layout": kwargs["preview_layout"],
                    "confidential": "1" if kwargs.get("preview_confidential") else "",
                }
            )
        context.update(
            kind=self.kind,
            master=self.master,
            template=self.template,
            history=list(self.template.versions.order_by("-version")[:10])
            if self.template is not None
            else [],
            preview_url=preview,
            preview_base=base,
            is_pdf=self.kind == MasterKind.DOCUMENT,
            field_choices=FIELD_CHOICES,
        )
        return context


@method_decorator(xframe_options_sameorigin, name="dispatch")  # shown in the editor's frame
class TemplatePreviewView(_TemplateAccess, TemplateView):
    """The master rendered with the sample kit: the saved layout, or ``?layout=<json>`` (the
    editor's unsaved rows), or the default layout when there is no template. Inline, never
    stored."""

    def get(self, request, *args, **kwargs):
        confidential = bool(request.GET.get("confidential"))
        try:
            if request.GET.get("layout"):
                layout = engine.layout_from_json(json.loads(request.GET["layout"]))
            elif self.template is not None:
                layout = engine.layout_from_json(self.template.layout)
                confidential = self.template.confidential
            else:
                layout = engine.default_layout(
                    "pdf" if self.kind == MasterKind.DOCUMENT else "image"
                )
            rendered = template_preview(
                kind=self.kind, master=_read(self.master), layout=layout, confidential=confidential
            )
        except (ValueError, engine.CobrandError) as exc:  # json errors are ValueErrors too
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(rendered.content, content_type=rendered.media_type)
        response["Content-Disposition"] = f'inline; filename="preview{rendered.ext}"'
        response["Cache-Control"] = "private, no-store"
        return response


class PageTemplateRedirectView(TemplateView):
    """From a marketing asset's editor to its master's template (PDF master first)."""

    def get(self, request, *args, **kwargs):
        if not cobrand_template_policy.can_edit(request.user):
            raise Http404
        page = get_object_or_404(MarketingAssetPage, pk=kwargs["page_id"])
        page = page.get_latest_revision_as_object()
        target = _asset_master(page)
        if target is None:
            messages.error(request, _("This asset has no PDF or image master to co-brand."))
            return HttpResponseRedirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        return HttpResponseRedirect(reverse("cobranding_template_edit", args=target))


def _asset_master(page: MarketingAssetPage) -> tuple[str, int] | None:
    """(kind, image pk | document lineage) of the master a template of ``page`` is for."""
    document = page.master_document
    if document is not None and (document.file_extension or "").lower() == "pdf":
        return MasterKind.DOCUMENT, document.lineage or document.pk
    if page.master_image_id:
        return MasterKind.IMAGE, page.master_image_id
    return None


class TemplateIndexView(_TitledCrumbs, WagtailAdminTemplateMixin, TemplateView):
    """Every co-brandable marketing asset (source locale and translations) with its master and
    its template's version: the way in from the files' side."""

    template_name = "cobranding/admin/template_index.html"
    page_title = gettext_lazy("Co-brand templates")
    header_icon = "image"

    def dispatch(self, request, *args, **kwargs):
        if not cobrand_template_policy.can_edit(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        from .models import CobrandTemplate

        context = super().get_context_data(**kwargs)
        pages = (
            MarketingAssetPage.objects.filter(co_brandable=True)
            .select_related("master_document", "master_image", "locale")
            .order_by("title", "pk")
        )
        templates = {
            (t.master_kind, t.image_id or t.lineage): t for t in CobrandTemplate.objects.all()
        }
        rows = []
        for page in pages:
            target = _asset_master(page)
            rows.append(
                {
                    "page": page,
                    "kind": target[0] if target else None,
                    "master": page.master_document
                    if target and target[0] == MasterKind.DOCUMENT
                    else page.master_image,
                    "template": templates.get(target) if target else None,
                    "url": reverse("cobranding_template_edit", args=target) if target else None,
                }
            )
        context["rows"] = rows
        return context


class CobrandTemplateButton(PageMenuItem):
    """ "Co-brand template" in a marketing asset's header menu."""

    label = gettext_lazy("Co-brand template")
    icon_name = "image"
    url_name = "cobranding_page_template"

    def is_shown(self, user):
        return issubclass(
            self.page.specific_class or type(self.page), MarketingAssetPage
        ) and cobrand_template_policy.can_edit(user)


class IdentifyForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Co-branded file"),
        help_text=gettext_lazy("A PDF, PNG or JPEG downloaded from the portal. It is not kept."),
    )


class IdentifyView(_TitledCrumbs, WagtailAdminTemplateMixin, TemplateView):
    """Upload a co-branded file, see whom it was made for. The upload is read in memory and
    dropped (Django's temporary file for a large upload is deleted with the request)."""

    template_name = "cobranding/admin/identify.html"
    page_title = gettext_lazy("Identify a file")
    header_icon = "search"

    def dispatch(self, request, *args, **kwargs):
        if not cobrand_identify_policy.can_identify(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=IdentifyForm()))

    def post(self, request, *args, **kwargs):
        form = IdentifyForm(request.POST, request.FILES)
        context = {"form": form}
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                context["record"] = identify_bytes(upload.read())
            except NotIdentified as exc:
                context["not_identified"] = str(exc)
            finally:
                upload.close()
        return self.render_to_response(self.get_context_data(**context))
