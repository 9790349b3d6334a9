"""Enforcement at Wagtail's own exits: page serving and its document URL."""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from wagtail import hooks

from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy


@hooks.register("before_serve_page")
def check_page_audience(page, request, serve_args, serve_kwargs):
    if page_policy.can_view(request.user, page):
        return None
    if not request.user.is_authenticated and page.depth <= 2:
        # The portal home is not secret: send visitors to the login form.
        return redirect_to_login(request.get_full_path())
    raise Http404


@hooks.register("before_serve_document")
def check_document_access(document, request):
    if not document_policy.can_serve_directly(request.user, document):
        raise Http404


@hooks.register("portal_file_placements", order=10)
def item_file_placements():
    """Documents and images, where the items that use them require (kb/placements.py)."""
    from .placements import document_and_image_placements

    return document_and_image_placements()
