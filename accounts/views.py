"""Partner-facing account pages: the password reset (Django's PasswordResetView family, portal
templates), the profile and the language switcher."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.views.account import (
    PasswordResetConfirmView as WagtailPasswordResetConfirmView,
)

from .forms import PortalPasswordResetForm, ProfileForm
from .languages import normalize_language
from .models import User
from .services import (
    login_lockout_lift,
    password_reset_request,
    user_language_set,
    user_preferences_update,
)
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


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's profile: UI language, time zone, notification preferences.

    A plain form (no JavaScript): POST, then redirect back with a success message in the newly
    chosen language. Every signed-in user may change their own preferences and nobody else's, so
    there is no object to ask the policy about.
    """
    user = cast(User, request.user)  # login_required
    form = ProfileForm.for_user(user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user_preferences_update(user=user, **form.cleaned_data)
        response = HttpResponseRedirect(reverse("accounts:profile"))
        language = form.cleaned_data["preferred_language"]
        _set_language_cookie(response, language)
        with translation.override(language):
            messages.success(request, gettext("Your profile is saved."))
        return response
    status = 400 if form.is_bound else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher's target (a POST form in the header; works without JavaScript).

    Saves the language as a signed-in user's ``preferred_language`` and, for everyone, in the
    language cookie (anonymous visitors: the login page then speaks it), then goes back to
    ``next`` (a local URL) or the portal home. An unknown language changes nothing.
    """
    language = normalize_language(request.POST.get("language"))
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if language is None:
        return response
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    _set_language_cookie(response, language)
    return response


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
