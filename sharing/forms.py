"""The partner's "Share with a customer" form and the customer's password form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        label=_("Customer"),
        max_length=200,
        required=False,
        help_text=_("Whom the link is for (only you and your organisation's admins see it)."),
    )
    days = forms.IntegerField(
        label=_("Open for (days)"),
        min_value=1,
        error_messages={"min_value": _("A link is open for at least 1 day.")},
    )
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "The customer must type it before they see the file. Tell it to them apart "
            "from the link."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        maximum = settings.PORTAL_SHARE_LINK_MAX_DAYS
        days = self.fields["days"]
        days.initial = settings.PORTAL_SHARE_LINK_DEFAULT_DAYS
        days.widget.attrs.update({"min": 1, "max": maximum})
        days.validators.append(_max(maximum))
        days.help_text = _("1 to %(max)d days.") % {"max": maximum}


def _max(maximum: int):
    def validate(value: int) -> None:
        if value is not None and value > maximum:
            raise ValidationError(
                _("A link can be open for at most %(max)d days.") % {"max": maximum},
                code="max_value",
            )

    return validate


class SharePasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
