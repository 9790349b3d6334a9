"""The public landing: what an anonymous visitor of ``/`` (or ``/de/`` …) is shown.

``PortalHomePage.serve`` renders it for visitors who are not logged in: the brand's name and
text, the items the page policy lets *anonymous* users see (the audiences marked public, below
public sections only), a log-in form and the password-reset link. The UI speaks the browser's
language (accounts.languages: cookie, then Accept-Language), activated before the page is
served (accounts.wagtail_hooks).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from .models import PortalItemPage
from .selectors import (
    _name_products,
    _one_per_translation_group,
    default_locale,
    locale_cached,
)

#: The landing lists at most this many public items (newest first).
LANDING_ITEMS = 12


def public_items(*, language_code: str, limit: int = LANDING_ITEMS) -> list[PortalItemPage]:
    """The newest items anyone may see without logging in (asked of the page policy for an
    anonymous user), one per translation group: the one in ``language_code`` when it exists."""
    from wagtail.models import Locale

    candidates = list(
        PortalItemPage.objects.live()
        .visible_to(AnonymousUser())
        .select_related("locale")
        .order_by("-first_published_at")[: limit * 3]
    )
    wanted = Locale.objects.filter(language_code=language_code).values_list("pk", flat=True)
    prefer = next(iter(wanted), None) or default_locale().pk
    items = _one_per_translation_group(candidates, prefer=prefer)[:limit]
    for item in items:
        item.locale = locale_cached(item.locale_id)
    _name_products(items, language_code)
    return items


def landing_response(request, home) -> TemplateResponse:
    """The landing page for an anonymous ``request`` to the locale home ``home``."""
    from accounts.forms import PortalAuthenticationForm

    language = get_language() or "en"
    form = PortalAuthenticationForm(request)
    # No autofocus here (the login page keeps it): on a phone it would jump past the text.
    form.fields["username"].widget.attrs.pop("autofocus", None)
    response = TemplateResponse(
        request,
        "kb/landing.html",
        {
            # Not "page": base.html would mark <main> with the home's content language, while
            # the landing speaks the visitor's UI language.
            "home": home,
            "public_items": public_items(language_code=language),
            "form": form,
        },
    )
    # The same URL speaks each visitor's language: caches must key on it.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response
