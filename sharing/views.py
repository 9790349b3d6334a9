"""Share links over HTTP.

Partner side (signed in, under /portal/): create a link on an item ("Share with a customer"),
list the links they may manage ("My share links") and revoke one. Customer side (no login,
``/s/<token>/``): the asset's own minimal page, its password gate, and the download.

Every decision is ``share_link_policy``'s, asked on each request. Whatever the reason a link does
not work (unknown, expired, revoked, entitlement gone), the customer gets the same 404 page,
byte for byte (``_gone``), so a link's state never leaks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.throttling import client_ip
from kb.models import PortalItemPage
from permissions.policies.sharing import share_link_policy

from . import renders
from .forms import ShareLinkForm, SharePasswordForm
from .models import ShareLink
from .selectors import share_link_by_token, share_links_for
from .services import (
    password_check,
    password_locked,
    share_link_count_download,
    share_link_count_view,
    share_link_create,
    share_link_revoke,
)

# Session keys: the link just created (shown once), the links whose password this browser gave.
NEW_LINK_SESSION_KEY = "sharing:new-link"
UNLOCKED_SESSION_KEY = "sharing:unlocked"
# The customer page reloads itself while the file is being prepared; those reloads carry this
# query parameter and are not counted as views.
REFRESH_PARAM = "refresh"
REFRESH_SECONDS = 5


# --- partner side --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def share_create(request: HttpRequest, page_id: int) -> HttpResponse:
    """The "Share with a customer" form of one item (also posted from the item page's action).

    A created link is shown once on "My share links" (through the session, so a reload does not
    create another); invalid input answers the form again with its errors (400)."""
    item = get_object_or_404(PortalItemPage, pk=page_id)
    if not share_link_policy.can_create(request.user, item):
        raise Http404
    form = ShareLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link, token = share_link_create(
                user=request.user,
                item=item,
                label=form.cleaned_data["label"],
                days=form.cleaned_data["days"],
                password=form.cleaned_data["password"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            request.session[NEW_LINK_SESSION_KEY] = {
                "id": link.pk,
                "url": request.build_absolute_uri(reverse("sharing:customer", args=[token])),
            }
            messages.success(
                request, _("Your share link is ready. Copy it now: it is shown only once.")
            )
            return HttpResponseRedirect(reverse("sharing:links"), status=303)
    status = 400 if form.is_bound else 200
    return render(request, "sharing/share_form.html", {"item": item, "form": form}, status=status)


@login_required
@require_safe
def share_links(request: HttpRequest) -> HttpResponse:
    """ "My share links": the links the user may manage (a partner admin: the organisation's;
    a member: their own) with their state right now. Not a partner: 404."""
    if not share_link_policy.can_list(request.user):
        raise Http404
    new_link = request.session.pop(NEW_LINK_SESSION_KEY, None)
    return render(
        request,
        "sharing/links.html",
        {
            "rows": share_links_for(request.user),
            "new_link": new_link,
            "customer_prefix": request.build_absolute_uri("/s/"),
        },
    )


@login_required
@require_POST
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    """Revoke a link the user may manage (anyone else: 404)."""
    link = get_object_or_404(ShareLink.objects.select_related("organization"), pk=link_id)
    if not share_link_policy.can_manage(request.user, link):
        raise Http404
    if share_link_revoke(link=link, user=request.user):
        messages.success(request, _("The link is revoked: it no longer works for anyone."))
    else:
        messages.info(request, _("The link was already revoked."))
    return HttpResponseRedirect(reverse("sharing:links"), status=303)


# --- customer side -------------------------------------------------------------------------------


def _customer_headers(response: HttpResponse) -> HttpResponse:
    """Never indexed, never cached, never a Referer to anywhere (the URL is the secret)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    return response


def _gone() -> HttpResponse:
    """The one answer for every link that does not work: rendered without the request (no CSRF
    token, no user), so its bytes are the same whatever the reason."""
    return _customer_headers(
        HttpResponse(render_to_string("sharing/customer/gone.html"), status=404)
    )


def _open_link(token: str) -> ShareLink | None:
    link = share_link_by_token(token)
    if link is None or not share_link_policy.is_open(link):
        return None
    return link


def _render(link: ShareLink):
    """The link's render (ready or under way), or None when the link cannot serve one: no master
    to co-brand, or the master's current version is one the creator may no longer have."""
    try:
        document = renders.master_document(link.item)
    except renders.NotCobrandable:
        return None
    if not share_link_policy.can_use_master(link, document):
        return None
    return renders.render_for_share(link.item, link.organization, link.created_by)


def _unlocked(request: HttpRequest, link: ShareLink) -> bool:
    return not link.has_password or link.pk in request.session.get(UNLOCKED_SESSION_KEY, [])


def _password_page(request: HttpRequest, link: ShareLink, form, *, status: int = 200, error=None):
    context = _page_context(link) | {"form": form, "error": error}
    return _customer_headers(
        render(request, "sharing/customer/password.html", context, status=status)
    )


def _page_context(link: ShareLink) -> dict[str, Any]:
    return {
        "vendor_name": settings.PORTAL_VENDOR_NAME,
        "organization_name": link.organization.name,
        "item_title": link.item.title,
    }


@require_http_methods(["GET", "HEAD", "POST"])
def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page of a share link: the item's title, who prepared it, the file's name, the
    download (or "preparing" while the render is made). A password-protected link asks for its
    password first (wrong ones are limited per address). Each GET showing the page counts a
    view (not the page's own reloads while preparing)."""
    link = _open_link(token)
    if link is None:
        return _gone()
    if not _unlocked(request, link):
        address = client_ip(request)
        if request.method != "POST":
            return _password_page(request, link, SharePasswordForm())
        form = SharePasswordForm(request.POST)
        if password_locked(link, address):
            error = _("Too many wrong passwords. Try again later.")
            return _password_page(request, link, form, status=429, error=error)
        if form.is_valid() and password_check(link, form.cleaned_data["password"], address):
            request.session.cycle_key()
            request.session[UNLOCKED_SESSION_KEY] = [
                *request.session.get(UNLOCKED_SESSION_KEY, []),
                link.pk,
            ]
            return HttpResponseRedirect(request.path, status=303)
        error = _("That password is not right.")
        return _password_page(request, link, SharePasswordForm(), status=400, error=error)
    if request.method == "POST":
        return HttpResponseRedirect(request.path, status=303)

    render_ = _render(link)
    if render_ is None:
        return _gone()
    state = "ready" if renders.render_is_ready(render_) else "preparing"
    if renders.render_has_failed(render_):
        state = "failed"
    if request.GET.get(REFRESH_PARAM) is None and request.method == "GET":
        share_link_count_view(link)
    context = _page_context(link) | {
        # Not the item's summary: it is written for partners (it may name tiers, regions or
        # other partners) and the customer is not one.
        "file_name": render_.filename if state == "ready" else "",
        "state": state,
        "download_url": reverse("sharing:customer_download", args=[token]),
        "refresh_url": f"{request.path}?{REFRESH_PARAM}=1",
        "refresh_seconds": REFRESH_SECONDS,
    }
    return _customer_headers(render(request, "sharing/customer/page.html", context))


@require_GET
def customer_download(request: HttpRequest, token: str) -> HttpResponse:
    """The co-branded file, stamped for this download with the link's id and its creator (so
    ``identify_file`` names them). Not unlocked or not ready yet: back to the page."""
    link = _open_link(token)
    if link is None:
        return _gone()
    page_url = reverse("sharing:customer", args=[token])
    if not _unlocked(request, link):
        return _customer_headers(HttpResponseRedirect(page_url, status=303))
    render_ = _render(link)
    if render_ is None:
        return _gone()
    if not renders.render_is_ready(render_):
        return _customer_headers(HttpResponseRedirect(page_url, status=303))
    shared = renders.file_for_share(render_, user=link.created_by, share_link_id=link.pk)
    share_link_count_download(link)
    response = HttpResponse(shared.content, content_type=shared.media_type)
    response["Content-Disposition"] = (
        content_disposition_header(True, shared.filename) or "attachment"
    )
    response["Content-Length"] = str(len(shared.content))
    return _customer_headers(response)
