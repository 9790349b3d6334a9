"""Forms for the e-mail-login user model: the portal login and the Wagtail admin user forms."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm
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


class LockoutMessageMixin:
    """Says "Too many failed attempts…" instead of "wrong password" when django-axes refused the
    login (locked account or address, right password or not), so the login page itself shows it;
    ``accounts.throttling.lockout_response`` then answers that page with 429. Each attempt runs
    inside ``accounts.throttling.login_gate``."""

    def clean(self):
        from .throttling import login_gate

        # One attempt per account at a time, so parallel guesses cannot all pass the lock check.
        # The refusal is raised after the gate's transaction commits: raised inside, it would
        # roll back the failure axes has just counted.
        with login_gate(self.cleaned_data.get("username")):
            try:
                return super().clean()
            except forms.ValidationError as refused:
                error = refused
        raise error

    def get_invalid_login_error(self):
        request = self.request
        if request is not None and getattr(request, "axes_locked_out", False):
            from .throttling import lockout_message

            request.portal_lockout_rendered = True
            credentials = {"username": self.cleaned_data.get("username")}
            return forms.ValidationError(lockout_message(request, credentials), code="locked_out")
        return super().get_invalid_login_error()


class PortalAdminLoginForm(LockoutMessageMixin, WagtailLoginForm):
    """Wagtail's admin login form (``WAGTAILADMIN_USER_LOGIN_FORM``) with the lockout message."""


class PortalAuthenticationForm(LockoutMessageMixin, AuthenticationForm):
    """Django's authentication form; its ``username`` field takes the e-mail address."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})


class PortalPasswordResetForm(PasswordResetForm):
    """The reset request form; the e-mail is sent by ``accounts.tasks``, never by ``save()``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
