"""Per-user time zone for every request, and the UI language for templates.

The *content* language comes from the URL (/de/..., /cs/...; Wagtail routes by it), so the user's
preferred UI language is applied in templates (base.html wraps the page in ``{% language %}``)
rather than activated here, where it would re-route every page into another locale's tree.
"""

import zoneinfo

from django.utils import timezone


class UserPreferencesMiddleware:
    """Activate the signed-in user's time zone.

    Runs after AuthenticationMiddleware; anonymous visitors keep the language negotiated by
    LocaleMiddleware (Accept-Language) and UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


def ui_language(request) -> dict:
    """Context processor: the language the portal UI speaks to this user."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.preferred_language:
        return {"ui_language": user.preferred_language}
    return {"ui_language": getattr(request, "LANGUAGE_CODE", "en")}


def portal_principal(request) -> dict:
    """Context processor: who is asking, as the policy sees it (cached per request)."""
    from permissions.policies import principal_for

    return {"principal": principal_for(getattr(request, "user", None))}
