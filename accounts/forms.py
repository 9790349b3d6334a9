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


# --- the organisation page (partner admins) and the invitation accept page ----------------------


class LinkedErrorsMixin:
    """Point each field with errors at its error text (``aria-describedby="<id>-error"``,
    ``aria-invalid``), so a screen reader reads the message with the field; the templates
    render the errors as ``<span id="<id>-error">`` (accounts/_field.html)."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                attrs = self.fields[name].widget.attrs
                # Django adds the help text's id only when the widget names none itself.
                help_id = f"{bound.auto_id}_helptext" if self.fields[name].help_text else ""
                described = [attrs.get("aria-describedby", "") or help_id, f"{bound.auto_id}-error"]
                attrs["aria-describedby"] = " ".join(d for d in described if d)
                attrs["aria-invalid"] = "true"


def _color_pair(label, text_label):
    """A colour as ``<input type=color>`` (works without JavaScript) plus a text field for a
    typed hex value; ``BrandKitForm.clean`` takes the typed one when it was changed."""
    return (
        forms.CharField(
            label=label,
            max_length=7,
            widget=forms.TextInput(attrs={"type": "color"}),
        ),
        forms.CharField(
            label=text_label,
            required=False,
            max_length=7,
            help_text=_("Or type it, like #1f6feb."),
            widget=forms.TextInput(attrs={"dir": "ltr", "pattern": "#[0-9a-fA-F]{6}"}),
        ),
    )


class BrandKitForm(LinkedErrorsMixin, forms.Form):
    """The brand kit on the organisation page. The logo is checked by content
    (files.validation, kind "logo") here, so a refused file is reported on the field and never
    stored; the change itself is saved by ``permissions.services.organization_update``."""

    COLOR_RE = r"^#[0-9a-fA-F]{6}$"

    name = forms.CharField(label=_("Company name"), max_length=200)
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 2 MB and 4000 × 4000 pixels. SVG is not accepted."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    logo_remove = forms.BooleanField(label=_("Remove the logo"), required=False)
    primary_color, primary_color_text = _color_pair(_("Primary colour"), _("Primary colour as hex"))
    secondary_color, secondary_color_text = _color_pair(
        _("Secondary colour"), _("Secondary colour as hex")
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_phone = forms.CharField(
        label=_("Phone"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "email"}),
    )
    contact_web = forms.CharField(
        label=_("Web"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    contact_block = forms.CharField(
        label=_("Address lines"),
        required=False,
        help_text=_("The address and any other lines of the contact block, one per line."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    TEXT_FIELDS = (
        "name",
        "contact_name",
        "contact_phone",
        "contact_email",
        "contact_web",
        "contact_block",
    )

    @classmethod
    def for_organization(cls, organization, data=None, files=None) -> BrandKitForm:
        initial = {name: getattr(organization, name) for name in cls.TEXT_FIELDS}
        for name in ("primary_color", "secondary_color"):
            initial[name] = getattr(organization, name)
            initial[f"{name}_text"] = getattr(organization, name)
        return cls(data=data, files=files, initial=initial)

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        from files.validation import UploadRejected, validate_upload

        try:
            validate_upload(name=upload.name, content=upload.file, kind="logo")
        except UploadRejected as exc:
            raise forms.ValidationError(exc.messages[0], code="logo") from None
        return upload

    def clean(self):
        import re

        cleaned = super().clean()
        for name in ("primary_color", "secondary_color"):
            typed = (cleaned.get(f"{name}_text") or "").strip()
            # Without JavaScript both inputs are sent: the typed value wins when it was changed.
            if typed and typed.lower() != (self.initial.get(f"{name}_text") or "").lower():
                value, field = typed, f"{name}_text"
            else:
                value, field = (cleaned.get(name) or "").strip(), name
            if not re.match(self.COLOR_RE, value):
                self.add_error(field, _("A colour like #1f6feb."))
            else:
                cleaned[name] = value.lower()
        return cleaned

    def service_values(self) -> dict:
        """The cleaned values as ``organization_update`` arguments (logo: upload, False, None)."""
        values = {name: self.cleaned_data[name] for name in self.TEXT_FIELDS}
        values["primary_color"] = self.cleaned_data["primary_color"]
        values["secondary_color"] = self.cleaned_data["secondary_color"]
        upload = self.cleaned_data.get("logo")
        values["logo"] = upload if upload else (False if self.cleaned_data["logo_remove"] else None)
        return values


class InviteForm(LinkedErrorsMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, **kwargs):
        from permissions.models import Membership

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Membership.Role.choices
        self.fields["role"].initial = Membership.Role.MEMBER


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, **kwargs):
        from permissions.models import Membership

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Membership.Role.choices


class InvitationAcceptForm(LinkedErrorsMixin, forms.Form):
    """Name and password of the account an invitation creates (Django's password validators)."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        from django.contrib.auth import password_validation

        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        from django.contrib.auth import get_user_model, password_validation

        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            probe = get_user_model()(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
