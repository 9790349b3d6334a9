"""Partner-facing account pages: the password reset (Django's PasswordResetView family, portal
templates), the profile and the language switcher."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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

from permissions.models import Membership, PartnerOrganization
from permissions.policies.organizations import organization_policy
from permissions.services import (
    MemberRuleError,
    member_role_change,
    member_set_active,
    organization_update,
)

from .forms import (
    BrandKitForm,
    InvitationAcceptForm,
    InviteForm,
    PortalPasswordResetForm,
    ProfileForm,
    RoleForm,
)
from .languages import language_cookie_set, normalize_language
from .models import Invitation, User
from .selectors import (
    organization_changes,
    organization_invitations_pending,
    organization_members,
)
from .services import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_problem,
    invitation_revoke,
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
        language_cookie_set(response, language)
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
    language_cookie_set(response, language)
    return response


# --- the organisation page: partner admins manage their own organisation -----------------------


def _managed_organization(request: HttpRequest) -> PartnerOrganization:
    """The organisation the signed-in user may manage (permissions decides), else 404."""
    organization = organization_policy.managed_organization(request.user)
    if organization is None:
        raise Http404
    return organization


def _organization_page(
    request: HttpRequest,
    organization: PartnerOrganization,
    *,
    brand_form: BrandKitForm | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "organization": organization,
        "brand_form": brand_form or BrandKitForm.for_organization(organization),
        "invite_form": invite_form or InviteForm(),
        "members": organization_members(organization),
        "invitations": organization_invitations_pending(organization),
        "changes": organization_changes(organization),
        "role_choices": Membership.Role.choices,
    }
    return render(request, "accounts/organization.html", context, status=status)


@login_required
def organization(request: HttpRequest) -> HttpResponse:
    """The partner admin's organisation page: brand kit, members, invitations, audit trail.

    Only for a partner admin of an active organisation, only their own (``organization_policy``);
    everyone else signed in gets 404. The brand kit form posts here.
    """
    org = _managed_organization(request)
    if request.method != "POST":
        return _organization_page(request, org)
    form = BrandKitForm.for_organization(org, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            organization_update(
                organization=org, actor=cast(User, request.user), **form.service_values()
            )
        except ValidationError as exc:
            # The model's own checks (a logo refused by content again, a too-long field).
            org.refresh_from_db()
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, gettext("The brand kit is saved."))
            return HttpResponseRedirect(reverse("accounts:organization"))
    return _organization_page(request, org, brand_form=form, status=400)


@login_required
@require_POST
def organization_invite(request: HttpRequest) -> HttpResponse:
    """Invite someone by e-mail (the e-mail is sent by a background task)."""
    org = _managed_organization(request)
    form = InviteForm(data=request.POST)
    if form.is_valid():
        try:
            invitation_create(
                organization=org,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=cast(User, request.user),
            )
        except InvitationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request,
                gettext("An invitation was sent to %(email)s.")
                % {"email": form.cleaned_data["email"]},
            )
            return HttpResponseRedirect(reverse("accounts:organization") + "#members")
    return _organization_page(request, org, invite_form=form, status=400)


def _owned_or_404(request: HttpRequest, model: type[Membership] | type[Invitation], pk: int):
    """The membership/invitation ``pk`` if the user may manage it (same 404 as a missing one)."""
    obj = model.objects.select_related("organization").filter(pk=pk).first()
    if obj is None or not organization_policy.can_manage_object(request.user, obj):
        raise Http404
    return obj


@login_required
@require_POST
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _owned_or_404(request, Invitation, pk)
    try:
        invitation_revoke(invitation=invitation, actor=cast(User, request.user))
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            gettext("The invitation of %(email)s is revoked.") % {"email": invitation.email},
        )
    return HttpResponseRedirect(reverse("accounts:organization") + "#members")


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a member's role (admin ↔ member); never leaves the organisation without an admin."""
    membership = _owned_or_404(request, Membership, pk)
    form = RoleForm(data=request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a role."))
    else:
        try:
            member_role_change(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=cast(User, request.user),
            )
        except MemberRuleError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("The role of %(email)s is saved.") % {"email": membership.user.email},
            )
    if not organization_policy.can_manage(request.user, membership.organization):
        # Admins who made themselves members are no longer on this page.
        return HttpResponseRedirect(reverse("accounts:profile"))
    return HttpResponseRedirect(reverse("accounts:organization") + "#members")


@login_required
@require_POST
def member_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate (``active=1``) a member's account."""
    membership = _owned_or_404(request, Membership, pk)
    active = request.POST.get("active") == "1"
    try:
        member_set_active(membership=membership, active=active, actor=cast(User, request.user))
    except MemberRuleError as exc:
        messages.error(request, str(exc))
    else:
        text = (
            gettext("%(email)s can log in again.")
            if active
            else gettext("%(email)s is deactivated and logged out.")
        )
        messages.success(request, text % {"email": membership.user.email})
    return HttpResponseRedirect(reverse("accounts:organization") + "#members")


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation e-mail: choose name and password, and the account exists.

    A link that is unknown, used, revoked or expired, or whose address already has an account,
    shows why (status 410 for a dead link, 409 for an existing account); nothing is created.
    """
    invitation = invitation_for_token(token)
    problem = invitation_problem(invitation)
    if problem is not None or invitation is None:
        return render(request, "accounts/invitation_accept.html", {"problem": problem}, status=410)
    data = request.POST if request.method == "POST" else None
    form = InvitationAcceptForm(data=data, email=invitation.email)
    if form.is_valid():
        try:
            invitation_accept(
                token=token,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
                language=translation.get_language(),
            )
        except InvitationError as exc:
            return render(
                request, "accounts/invitation_accept.html", {"problem": str(exc)}, status=410
            )
        messages.success(
            request, gettext("Your account is ready. Log in with your e-mail address.")
        )
        return HttpResponseRedirect(reverse("login"))
    context = {"form": form, "invitation": invitation}
    return render(
        request, "accounts/invitation_accept.html", context, status=400 if form.is_bound else 200
    )
