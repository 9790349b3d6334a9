"""Wagtail admin: "Login lockouts" (Settings menu): the locked accounts and addresses, each with a
"Lift lockout" button. Both asked of ``permissions.policies.login_lockout_policy``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from permissions.policies.accounts import login_lockout_policy

from .selectors import login_lockouts
from .services import login_lockout_lift


class LoginLockoutsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "accounts/admin/login_lockouts.html"
    page_title = gettext_lazy("Login lockouts")
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not login_lockout_policy.user_has_permission(request.user, "view"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockouts"] = login_lockouts()
        context["can_lift"] = login_lockout_policy.user_has_permission(self.request.user, "lift")
        context["account_limit"] = settings.PORTAL_LOGIN_ACCOUNT_LIMIT
        context["address_limit"] = settings.PORTAL_LOGIN_ADDRESS_LIMIT
        context["cooloff"] = settings.PORTAL_LOGIN_COOLOFF_MINUTES
        return context

    def post(self, request, *args, **kwargs):
        if not login_lockout_policy.user_has_permission(request.user, "lift"):
            raise PermissionDenied
        kind = request.POST.get("kind", "")
        key = request.POST.get("key", "")
        if kind not in ("account", "address") or not key:
            messages.error(request, _("Choose a lockout to lift."))
            return redirect(reverse("portal_login_lockouts"))
        removed = login_lockout_lift(kind=kind, key=key, user=request.user)
        if removed:
            messages.success(request, _("Lockout of %(key)s lifted.") % {"key": key})
        else:
            messages.warning(request, _("%(key)s was not locked.") % {"key": key})
        return redirect(reverse("portal_login_lockouts"))
