"""The portal's URLs plus ``/bench/plain/``: the load benchmark's ceiling (bench/load.py).

The ceiling is a plain Wagtail page (``wagtailcore.Page``, Wagtail's own ``wagtailcore/page.html``)
served by the same gunicorn, settings and middleware as the portal, for the same signed-in
sessions: session and user lookup, site lookup and routing, a template render. What it skips is
what the portal adds: the audience check and the portal's own queries and templates. The portal's
catch-all route would answer 404 for it (a plain page has no audience, so no partner may see it);
this view routes and serves it the way ``wagtail.views.serve`` does, without that hook.
"""

from django.http import Http404
from django.urls import path
from wagtail.models import Page

from portal_site.urls import urlpatterns as portal_urlpatterns

PLAIN_SLUG = "bench-plain"


def plain_page(request):
    result = Page.route_for_request(request, f"/{PLAIN_SLUG}/")
    if result is None:
        raise Http404("the benchmark's plain page is missing (bench/load.py creates it)")
    page, args, kwargs = result
    return page.serve(request, *args, **kwargs)


urlpatterns = [path("bench/plain/", plain_page, name="bench_plain"), *portal_urlpatterns]
