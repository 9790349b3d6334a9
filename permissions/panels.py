"""The audience panel of every partner-visible page, and the "Who can see this" panel."""

from __future__ import annotations

import threading

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, Panel

from .models import EXCEPTION_CODENAME, GRANT_CODENAME, PartnerOrganization

pending_audience_orgs = threading.local()


class AudienceAdminPageForm(WagtailAdminPageForm):
    """Adds per-organisation grants and exceptions (guardian permissions) to the page form.

    They are not page fields: they are stored as object permissions when the page is saved (see
    the after_create_page / after_edit_page hooks in permissions/wagtail_hooks.py).
    """

    audience_grants = forms.ModelMultipleChoiceField(
        queryset=PartnerOrganization.objects.all(),
        required=False,
        label=_("Granted organisations"),
        help_text=_("May see this page even if tier, region or type do not match."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    audience_exceptions = forms.ModelMultipleChoiceField(
        queryset=PartnerOrganization.objects.all(),
        required=False,
        label=_("Excluded organisations"),
        help_text=_("May never see this page or anything below it."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            from .services import audience_organizations

            self.fields["audience_grants"].initial = audience_organizations(
                page=self.instance, codename=GRANT_CODENAME
            )
            self.fields["audience_exceptions"].initial = audience_organizations(
                page=self.instance, codename=EXCEPTION_CODENAME
            )

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("audience_grants") or []) & set(
            cleaned.get("audience_exceptions") or []
        )
        if both:
            names = ", ".join(sorted(o.name for o in both))
            self.add_error(
                "audience_exceptions",
                _("An organisation cannot be granted and excluded at once: %(names)s")
                % {"names": names},
            )
        return cleaned

    def save(self, commit=True):
        page = super().save(commit=commit)
        # Applied by the after_create_page / after_edit_page hooks, once the page has a primary
        # key. Kept per thread (= per request) because Wagtail re-fetches the page on publish.
        pending_audience_orgs.value = {
            GRANT_CODENAME: list(self.cleaned_data.get("audience_grants") or []),
            EXCEPTION_CODENAME: list(self.cleaned_data.get("audience_exceptions") or []),
        }
        return page


class WhoCanSeePanel(Panel):
    """Lists which organisations may see the page (as published), each with the reason."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "permissions/panels/who_can_see.html"

        def get_context_data(self, parent_context=None):
            from .selectors import audience_report

            context = super().get_context_data(parent_context)
            page = self.instance
            context["report"] = audience_report(page=page) if page and page.pk else None
            return context


def audience_panels() -> list[Panel]:
    return [
        MultiFieldPanel(
            [
                FieldPanel("audience_public"),
                FieldPanel("audience_min_tier"),
                FieldPanel("audience_regions", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audience_partner_types", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audience_grants"),
                FieldPanel("audience_exceptions"),
                HelpPanel(
                    content=_(
                        "Rules: a suspended organisation sees nothing; an exception beats "
                        "everything; a grant beats the tier/region/type rule; otherwise all "
                        "three must match. Parents' audiences also apply: a page can only "
                        "narrow what its parent allows."
                    )
                ),
            ],
            heading=_("Audience"),
        ),
        WhoCanSeePanel(heading=_("Who can see this")),
    ]
