"""Forms for the e-mail-login user model: the portal login and the Wagtail admin user forms."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm, UserEditForm

from .models import time_zone_choices

PROFILE_FIELDS = {"preferred_language", "time_zone"}


class PortalUserCreationForm(UserCreationForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC")

    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | PROFILE_FIELDS


class PortalUserEditForm(UserEditForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | PROFILE_FIELDS


class PortalAuthenticationForm(AuthenticationForm):
    """Django's authentication form; its ``username`` field takes the e-mail address."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})
