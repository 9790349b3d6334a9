"""Wagtail admin user forms for the e-mail-login user model."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm, UserEditForm

from .models import time_zone_choices


class _PreferencesMixin(forms.Form):
    preferred_language = forms.ChoiceField(choices=settings.LANGUAGES, initial="en")
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC")


class PortalUserCreationForm(_PreferencesMixin, UserCreationForm):
    pass


class PortalUserEditForm(_PreferencesMixin, UserEditForm):
    pass


class PortalAuthenticationForm(AuthenticationForm):
    """Django's authentication form; its ``username`` field takes the e-mail address."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})
