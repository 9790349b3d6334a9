"""The portal's URLs plus ``/bench/plain/``: the load benchmark's ceiling (bench/load.py).

The ceiling is a plain Wagtail page (``wagtailcore.Page``, Wagtail's own ``wagtailcore/page.html``)
served by the same gunicorn, settings and middleware as the portal, for the same signed-in
sessions: session and user lookup, site lookup and routing, a template render. What it skips is
what the portal adds: the audience check and the portal's own queries and templates. The portal's
catch-all route would answer 404 for it (a plain page has no audience, so no partner may see it);
this view routes and serves it the way ``wagtail.views.serve`` does, without that hook.

It routes from the site's root page itself (the English home, where bench/load.py adds the page),
not from ``root_page.localized`` as ``Page.route_for_request`` does: this URL is outside the
language-prefixed patterns, so the active language is the reader's UI language, and for a
partner reading German the localized root (the German home) has no such child (a 404 for every
German-reading session of the ceiling run).
"""

from django.http import Http404
from django.urls import path
from wagtail.models import Site

from portal_site.urls import urlpatterns as portal_urlpatterns

PLAIN_SLUG = "bench-plain"


def plain_page(request):
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("no site")
    # Raises Http404 when the page is missing (bench/load.py creates it).
    page, args, kwargs = site.root_page.specific.route(request, [PLAIN_SLUG])
    return page.serve(request, *args, **kwargs)


urlpatterns = [path("bench/plain/", plain_page, name="bench_plain"), *portal_urlpatterns]
