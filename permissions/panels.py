"""The audience panel of every partner-visible page, and the "Who can see this" panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, Panel

from .models import AudienceMixin
from .policies.pages import page_access_policy

#: The page fields that decide who may see a page (all of them are in the revision).
ACCESS_FIELDS = AudienceMixin.AUDIENCE_FIELDS


def _comparable(value: Any) -> object:
    """A form or model value of an access field reduced to something comparable."""
    if value is None or isinstance(value, bool):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "all"):  # a related manager
        value = value.all()
    return frozenset(item.pk if hasattr(item, "pk") else int(item) for item in value)


class AudienceAdminPageForm(WagtailAdminPageForm):
    """The page form of partner-visible pages: access fields only for those allowed to change them.

    Grants and exceptions are page fields (``AudienceMixin``), saved in the revision like every
    other field and applied when the revision is published. A user without the access permission
    (policies.page_access_policy) sees the access fields read-only; a change they post anyway
    is refused with a form error, never dropped silently.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.may_change_access = page_access_policy.user_has_permission(
            self.for_user, "change_access"
        )
        if not self.may_change_access:
            for name in ACCESS_FIELDS:
                field = self.fields.get(name)
                if field is not None:
                    # Rendered read-only; a browser does not submit disabled inputs, which clean()
                    # reads as "unchanged".
                    field.widget.attrs["disabled"] = True
                    field.help_text = _(
                        "Read-only: you may not change who can see pages (an editor can)."
                    )

    def _access_baseline(self) -> dict[str, Any]:
        """The access values a user without the permission must leave as they are: those of the
        page's latest revision (not the form's instance, which is an older revision when
        reverting), or the defaults of a new page."""
        instance = self.instance
        if instance.pk:
            instance = type(instance).objects.get(pk=instance.pk).get_latest_revision_as_object()
        return {name: getattr(instance, name) for name in ACCESS_FIELDS if name in self.fields}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        if not self.may_change_access:
            for name, baseline in self._access_baseline().items():
                if self.add_prefix(name) not in self.data:
                    # Not submitted (disabled input): keep the value as it is.
                    cleaned[name] = list(baseline.all()) if hasattr(baseline, "all") else baseline
                elif name in cleaned and _comparable(cleaned[name]) != _comparable(baseline):
                    self.add_error(
                        name,
                        _(
                            "You may not change who can see this page; this change was not "
                            "saved. Leave the field as it was, or ask an editor."
                        ),
                    )
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


class WhoCanSeePanel(Panel):
    """Who may see the page as published (each organisation with the reason), and what
    publishing the latest revision would change."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "permissions/panels/who_can_see.html"

        def get_context_data(self, parent_context: dict[str, Any] | None = None) -> dict[str, Any]:
            from .selectors import audience_pending, audience_report

            context: dict[str, Any] = super().get_context_data(parent_context)
            page = self.instance
            context["report"] = audience_report(page=page) if page and page.pk else None
            context["pending"] = audience_pending(page=page) if page else None
            return context


def audience_panels() -> list[Panel]:
    return [
        MultiFieldPanel(
            [
                FieldPanel("audience_public"),
                FieldPanel("audience_min_tier"),
                FieldPanel("audience_regions", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audience_partner_types", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audience_grants", widget=forms.SelectMultiple(attrs={"size": 8})),
                FieldPanel("audience_exceptions", widget=forms.SelectMultiple(attrs={"size": 8})),
                HelpPanel(
                    content=_(
                        "Rules: a suspended organisation sees nothing; an exception beats "
                        "everything; a grant beats the tier/region/type rule; otherwise all "
                        "three must match. Parents' audiences also apply: a page can only "
                        "narrow what its parent allows. Changes take effect when the page is "
                        "published (after approval), not when a draft is saved."
                    )
                ),
            ],
            heading=_("Audience"),
        ),
        WhoCanSeePanel(heading=_("Who can see this")),
    ]
