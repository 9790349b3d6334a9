"""Admin hooks of the accounts app: the "Login lockouts" screen and its audit action."""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.log_actions import LogFormatter

from permissions.policies.accounts import login_lockout_policy

from .admin_views import LoginLockoutsView
from .services import LOCKOUT_LIFT_ACTION


@hooks.register("register_admin_urls")
def register_lockout_urls():
    return [path("login-lockouts/", LoginLockoutsView.as_view(), name="portal_login_lockouts")]


class LoginLockoutsMenuItem(MenuItem):
    def is_shown(self, request):
        return login_lockout_policy.user_has_permission(request.user, "view")


@hooks.register("register_settings_menu_item")
def register_lockouts_menu_item():
    return LoginLockoutsMenuItem(
        _("Login lockouts"), reverse("portal_login_lockouts"), icon_name="lock", order=700
    )


@hooks.register("register_permissions")
def register_lockout_permissions():
    # Shown in Wagtail's group editor, so a group (e.g. a support desk) can be allowed to lift.
    return Permission.objects.filter(
        content_type__app_label="axes",
        codename__in=["view_accessattempt", "delete_accessattempt"],
    )


@hooks.register("register_log_actions")
def register_lockout_log_actions(actions):
    @actions.register_action(LOCKOUT_LIFT_ACTION)
    class LockoutLifted(LogFormatter):
        label = _("Lift login lockout")

        def format_message(self, log_entry):
            key = (log_entry.data or {}).get("key", "")
            return _("Lifted the login lockout of %(key)s") % {"key": key}


@hooks.register("before_serve_page")
def speak_the_ui_language(page, request, serve_args, serve_kwargs):
    """Wagtail has found the page by the URL's content language: from here on (the page's
    context, its template, messages) the portal speaks the person's UI language
    (accounts.middleware.UILanguageMiddleware does the same for every other view)."""
    from .middleware import activate_ui_language

    activate_ui_language(request)
