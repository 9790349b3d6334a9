"""Per-user time zone for every request, and the UI language.

The *content* language comes from the URL (/de/..., /cs/...; Wagtail routes by it); the UI
language comes from the person (accounts.languages) and is activated after routing
(``UILanguageMiddleware``), never before, where it would re-route every page into another
locale's tree.
"""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from .languages import language_cookie_set, normalize_language, ui_language_for


class UserPreferencesMiddleware:
    """Activate the signed-in user's time zone.

    Runs after AuthenticationMiddleware; anonymous visitors keep the language negotiated by
    LocaleMiddleware (Accept-Language) and UTC.

    Wagtail's admin views activate the zone of the user's Wagtail profile instead
    (``UserProfile.current_time_zone``, else settings.TIME_ZONE, UTC), so on admin requests the
    profile is brought in step with ``User.time_zone`` first (``admin_time_zone_sync``): editors
    see and enter go-live and expiry times in their own zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            if user.is_staff and request.path.startswith(self._admin_prefix()):
                admin_time_zone_sync(user)
        else:
            timezone.deactivate()
        return self.get_response(request)

    def _admin_prefix(self) -> str:
        if self.admin_prefix is None:
            from django.urls import reverse

            self.admin_prefix = reverse("wagtailadmin_home")
        return self.admin_prefix


def admin_time_zone_sync(user) -> None:
    """Make Wagtail's profile of ``user`` carry the user's time zone (``User.time_zone`` is the
    one the portal's profile page edits; a change in Wagtail's own account settings is copied
    back by accounts.signal_handlers). Reads the profile once per admin request (Wagtail reads
    the same cached object); writes only when they differ."""
    from django.db import IntegrityError, transaction
    from wagtail.users.models import UserProfile

    wanted = user.time_zone or "UTC"
    try:
        profile = user.wagtail_userprofile
    except UserProfile.DoesNotExist:
        try:
            with transaction.atomic():
                profile = UserProfile.objects.create(user=user, current_time_zone=wanted)
        except IntegrityError:  # a concurrent admin request of the same user made it
            profile = UserProfile.objects.get(user=user)
        user.wagtail_userprofile = profile
    if profile.current_time_zone != wanted:
        # update(): no post_save, which would copy the zone back to the user.
        UserProfile.objects.filter(pk=profile.pk).update(current_time_zone=wanted)
        profile.current_time_zone = wanted


def ui_language(request) -> dict:
    """Context processor: the language the portal UI speaks to this user (base.html wraps the
    page in it; also for the pages rendered before a view ran, such as a 404), and the languages
    of the switcher, each by its own name (not passed through gettext as Django's
    ``get_available_languages`` does: it would translate "English")."""
    return {"ui_language": ui_language_for(request), "ui_languages": settings.LANGUAGES}


def portal_principal(request) -> dict:
    """Context processor: who is asking, as the policy sees it (cached per request), and
    whether they manage an organisation (the "Organisation" link; asked only when a template
    reads it, and only for partners)."""
    from permissions.policies.organizations import organization_policy
    from permissions.policies.principal import principal_for

    user = getattr(request, "user", None)
    principal = principal_for(user)

    def manages_organization() -> bool:
        return organization_policy.manages_an_organization(user)

    return {"principal": principal, "manages_organization": manages_organization}


# Django's and Wagtail's page-serving view: it routes by the active language (the URL's content
# language), so the UI language is activated only after routing (accounts.wagtail_hooks).
CONTENT_SERVE_VIEWS = frozenset({"wagtail_serve"})


def activate_ui_language(request) -> str:
    """Activate the UI language of ``request`` (``ui_language_for``) and return it."""
    language = ui_language_for(request)
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()
    return language


class UILanguageMiddleware:
    """Speak the person's UI language in every view: the profile language of a signed-in user,
    else the language cookie, else Accept-Language (accounts.languages).

    LocaleMiddleware gives every path without a language prefix the default language, because
    ``/`` is the English content tree (``prefix_default_language=False``), and Wagtail routes
    pages by the active language. So the UI language is activated once the URL is resolved
    (``process_view``: routing unchanged), and for Wagtail's page view only after the page is
    found (the ``before_serve_page`` hook in accounts.wagtail_hooks). Messages, form errors and
    labels made in views then speak it too, not only the templates.

    On the anonymous account pages (login, lockout, reset) this is the browser's language: the
    language of a *typed* account is never used (it would tell known accounts apart).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # The profile language also goes into the language cookie, so that what is answered
        # without reading the user still speaks it: the designed 503 when the database is away
        # (ops.middleware.page_language), the login page after the session ended. Only when the
        # user was already loaded (no query of its own) and the cookie says something else.
        user = getattr(request, "_cached_user", None)
        if user is not None and user.is_authenticated and response.status_code < 500:
            preferred = normalize_language(getattr(user, "preferred_language", None))
            if preferred and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != preferred:
                language_cookie_set(response, preferred)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in CONTENT_SERVE_VIEWS:
            return None
        activate_ui_language(request)
        return None
