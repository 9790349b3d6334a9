"""The UI language of a request: which of settings.LANGUAGES the portal speaks to this person.

UI languages (settings.LANGUAGES, gettext catalogues in locale/) and content languages
(settings.WAGTAIL_CONTENT_LANGUAGES, the page trees under /, /de/, /cs/) are separate lists: the
content language comes from the URL, the UI language from the person:

1. a signed-in user's ``preferred_language`` (their profile, the language switcher);
2. else the language cookie (the switcher sets it for anonymous visitors);
3. else the browser's Accept-Language;
4. else settings.LANGUAGE_CODE.

Codes are Django's lower-case form (``pt-br``, ``zh-hans``); input in any case and with ``_``
(``pt_BR``, ``zh-Hans``) is accepted and normalised by ``normalize_language``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def ui_language_codes() -> list[str]:
    """The UI language codes, in the order of settings.LANGUAGES."""
    return [code for code, _name in settings.LANGUAGES]


def normalize_language(code: object) -> str | None:
    """The settings.LANGUAGES code ``code`` names (any case, ``-`` or ``_``), or None.

    A regional variant falls back to its language when only that is offered (``de-AT`` ->
    ``de``); an unknown language gives None.
    """
    if not isinstance(code, str) or not code.strip() or len(code) > 20:
        return None
    wanted = code.strip().replace("_", "-").lower()
    codes = ui_language_codes()
    if wanted in codes:
        return wanted
    try:
        found = translation.get_supported_language_variant(wanted)
    except LookupError:
        return None
    return found if found in codes else None


def ui_language_for(request) -> str:
    """The language the portal UI speaks to the person behind ``request`` (see the module)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        preferred = normalize_language(getattr(user, "preferred_language", None))
        if preferred:
            return preferred
    cookie = normalize_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if cookie:
        return cookie
    # Accept-Language only (check_path=False: the URL's prefix is the *content* language, and
    # the cookie was read above with case normalisation).
    for accepted, _quality in parse_accept_lang_header(
        request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    ):
        if accepted == "*":
            break
        found = normalize_language(accepted)
        if found:
            return found
    return normalize_language(settings.LANGUAGE_CODE) or "en"


def language_cookie_set(response, language: str) -> None:
    """Remember ``language`` in the browser (the language cookie, read by ``ui_language_for``)."""
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
