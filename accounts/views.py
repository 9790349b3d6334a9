"""The partner-facing password reset (Django's PasswordResetView family, portal templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.account import (
    PasswordResetConfirmView as WagtailPasswordResetConfirmView,
)

from .forms import PortalPasswordResetForm
from .services import login_lockout_lift, password_reset_request
from .throttling import client_ip


class PortalPasswordResetView(auth_views.PasswordResetView):
    """Asks for the e-mail address; always answers "check your mailbox" (known address or not).

    The e-mail itself is queued (``accounts.tasks``) by
    ``accounts.services.password_reset_request``, which also applies the rate limit per e-mail and
    per client address.
    """

    template_name = "accounts/password_reset_form.html"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        accepted = password_reset_request(
            email=form.cleaned_data["email"], ip_address=client_ip(self.request)
        )
        if not accepted:
            form.add_error(None, _("Too many password reset requests. Try again later."))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return HttpResponseRedirect(self.get_success_url())


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class LiftLockoutOnResetMixin:
    """A new password set through a reset link also lifts the account's login lockout: the reset
    proved the user owns the mailbox."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_lockout_lift(kind="account", key=form.user.email, user=form.user)
        return response


class PortalPasswordResetConfirmView(LiftLockoutOnResetMixin, auth_views.PasswordResetConfirmView):
    """The link from the e-mail: choose a new password."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class AdminPasswordResetConfirmView(LiftLockoutOnResetMixin, WagtailPasswordResetConfirmView):
    """Wagtail's own reset link for staff (/admin/password_reset/confirm/...), same lift."""


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
