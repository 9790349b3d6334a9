"""The brand's public exits: its stylesheet (the colours), its logo and /favicon.ico.

All three are public by nature: they make up the header every visitor sees, the anonymous
landing included. The logo is the one image an administrator chose in Settings → Brand (its
help text says it becomes public); no other image is reachable here.
"""

from __future__ import annotations

import posixpath

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from files.serving import serve_stored_file

from .colors import HEX_COLOR
from .models import DEFAULT_ACCENT, DEFAULT_PRIMARY, brand_for

#: A day: the URLs carry a version of the colours / the logo, so a change shows at once.
BRAND_MAX_AGE = 24 * 60 * 60
LOGO_FILTER = "max-480x96"


@require_safe
def brand_css(request: HttpRequest) -> HttpResponse:
    """The brand colours as CSS custom properties. A stylesheet of its own, not an inline
    <style>: the portal's Content-Security-Policy allows styles from this site only. Values are
    re-checked here (``#rrggbb`` only), so nothing else ever reaches the stylesheet."""
    brand = brand_for(request)
    primary = brand.primary_color if HEX_COLOR.match(brand.primary_color or "") else DEFAULT_PRIMARY
    accent = brand.accent_color if HEX_COLOR.match(brand.accent_color or "") else DEFAULT_ACCENT
    body = f":root {{ --brand-primary: {primary}; --accent: {accent}; }}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"max-age={BRAND_MAX_AGE}"
    return response


@require_safe
def brand_logo(request: HttpRequest):
    """The brand's logo, scaled to the header (a rendition), for everyone."""
    brand = brand_for(request)
    if brand.logo is None:
        raise Http404
    rendition = brand.logo.get_rendition(LOGO_FILTER)
    response = serve_stored_file(
        rendition.file.name,
        rendition.file.storage,
        filename=posixpath.basename(rendition.file.name),
        as_attachment=False,
    )
    if response.status_code == 200:
        response["Cache-Control"] = f"max-age={BRAND_MAX_AGE}"
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for without reading the page: the static icon."""
    return HttpResponseRedirect(static("favicon.ico"))
