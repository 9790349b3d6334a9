"""Forms for the e-mail-login user model: the portal login, the profile and the Wagtail admin
user forms."""

from __future__ import annotations

from datetime import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm
from wagtail.users.forms import UserCreationForm, UserEditForm

from .languages import normalize_language
from .models import DigestFrequency, time_zone_choices

PROFILE_FIELDS = {"preferred_language", "time_zone"}


class LanguageInAnyCaseMixin:
    """A ``preferred_language`` in any case or with ``_`` ("pt-BR", "zh_Hans") is the same choice
    as Django's lower-case code ("pt-br", "zh-hans")."""

    def full_clean(self):
        field = self.add_prefix("preferred_language")
        if self.is_bound and field in self.data:
            data = self.data.copy()
            data[field] = normalize_language(data.get(field)) or data.get(field) or ""
            self.data = data
        super().full_clean()


class PortalUserCreationForm(LanguageInAnyCaseMixin, UserCreationForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC")

    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | PROFILE_FIELDS


class PortalUserEditForm(LanguageInAnyCaseMixin, UserEditForm):
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
        # An address reads left to right in every UI language (Arabic too).
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "email", "type": "email", "dir": "ltr"}
        )


class PortalPasswordResetForm(PasswordResetForm):
    """The reset request form; the e-mail is sent by ``accounts.tasks``, never by ``save()``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "dir": "ltr"})


class ProfileForm(LanguageInAnyCaseMixin, forms.Form):
    """The partner's own profile (``/portal/account/profile/``): UI language, time zone and
    notification preferences. Saved by ``accounts.services.user_preferences_update``."""

    preferred_language = forms.ChoiceField(label=_("Language of the portal"))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Dates and times in the portal are shown in this time zone."),
        widget=forms.Select(attrs={"aria-describedby": "id_time_zone-help"}),
    )
    notify_new_versions = forms.BooleanField(
        label=_("E-mail me when a file I downloaded gets a new version"),
        required=False,
        # Sent by the digest job (digest.services): in the digest when it is on, else alone.
        help_text=_(
            "Once a day, only when a file you downloaded got a new version or was withdrawn. "
            "With the digest on, it is part of the digest."
        ),
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_notify_new_versions-help"}),
    )
    digest_frequency = forms.ChoiceField(
        label=_("Digest of new and updated items"),
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each language by its own name (endonym), as the language switcher lists them.
        self.fields["preferred_language"].choices = list(settings.LANGUAGES)
        # When the digest comes (digest.services.digest_slot), in the active UI language.
        self.fields["digest_frequency"].help_text = gettext(
            "Sent at %(hour)s in your time zone (weekly: on %(weekday)s), only when there is "
            "something new for you. Each digest has a link that switches it off."
        ) % {
            "hour": formats.time_format(time(settings.PORTAL_DIGEST_HOUR)),
            "weekday": WEEKDAYS[settings.PORTAL_DIGEST_WEEKDAY],
        }

    @classmethod
    def for_user(cls, user, data=None) -> ProfileForm:
        initial = {
            "preferred_language": normalize_language(user.preferred_language) or "en",
            "time_zone": user.time_zone or "UTC",
            "notify_new_versions": user.notify_new_versions,
            "digest_frequency": user.digest_frequency,
        }
        return cls(data=data, initial=initial)
