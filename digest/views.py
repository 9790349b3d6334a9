"""The digest's switch-off page: reached from the link in every digest, no login needed.

``GET /portal/digest/switch/<token>/`` asks (a button): link scanners and mail previews fetch
links, and fetching must change nothing. ``POST`` to the same address switches the digest off and
shows a page with a button to switch it back on; it is also the RFC 8058 one-click target
(``List-Unsubscribe-Post``), which mail clients POST without a page or a CSRF token. The signed
token is the credential (digest.services.digest_token_user), hence ``csrf_exempt``: a forged
request would need the token, and with it could do no more than the token's owner can.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import DigestFrequency

from .services import (
    PERIODS,
    DigestLinkExpired,
    digest_kind,
    digest_switch_off,
    digest_switch_on,
    digest_token_user,
)


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The token must not travel on in a Referer header (the page links to the profile).
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def digest_switch(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = digest_token_user(token)
    except DigestLinkExpired:
        context = {"expired": True, "profile_url": reverse("accounts:profile")}
        return _page(request, "digest/link_invalid.html", context, status=410)
    if user is None:
        context = {"expired": False, "profile_url": reverse("accounts:profile")}
        return _page(request, "digest/link_invalid.html", context, status=404)
    language = user.preferred_language or "en"
    context = {
        "token": token,
        "email": user.email,
        "ui_language": language,  # the link's owner's language, not the browser's
        "profile_url": reverse("accounts:profile"),
        "frequencies": [(value, DigestFrequency(value).label) for value in PERIODS],
    }
    with translation.override(language):
        if request.method == "GET":
            # The new-version e-mail (no digest) is switched off here too.
            context["frequency"] = digest_kind(user) or DigestFrequency.NONE
            return _page(request, "digest/switch.html", context)
        if request.POST.get("action") == "on":
            frequency = request.POST.get("frequency", "")
            if frequency not in PERIODS:
                frequency = DigestFrequency.DAILY
            digest_switch_on(user, frequency)
            context.update(frequency=frequency, switched="on")
            return _page(request, "digest/switched.html", context)
        previous = digest_switch_off(user)
        # Offered back at the frequency they had (daily when it was already off).
        context.update(
            frequency=DigestFrequency.NONE,
            switched="off",
            previous=previous if previous in PERIODS else DigestFrequency.DAILY,
        )
        return _page(request, "digest/switched.html", context)
