"""Enforcement at Wagtail's own exits: page serving and its document URL; the products' admin."""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy

from .models import Product


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


class ProductViewSet(SnippetViewSet):
    """Products in the admin (Editors and Moderators add and change them: kb migration 0013),
    with wagtail-localize's Translate action (locale-scoped by localization.views)."""

    model = Product
    icon = "tag"
    menu_label = _("Products")
    menu_order = 240
    add_to_admin_menu = True
    list_display = ["name", "key"]
    search_fields = ["name", "key"]
    # Plain ORM search (icontains): a small table that must never be out of step with an index.
    search_backend_name = None


register_snippet(ProductViewSet)


@hooks.register("register_admin_urls")
def register_sheet_versions_url():
    from django.urls import path

    from .admin_views import ProductSheetVersionsView

    return [
        path(
            "kb/product-sheets/<int:page_id>/versions/",
            ProductSheetVersionsView.as_view(),
            name="kb_sheet_versions",
        )
    ]


@hooks.register("register_page_header_buttons")
def sheet_versions_header_button(page, user, view_name, next_url=None):
    from .admin_views import SheetVersionsButton

    yield SheetVersionsButton(page=page, priority=66)


@hooks.register("register_page_listing_more_buttons")
def sheet_versions_listing_button(page, user, next_url=None):
    from .admin_views import SheetVersionsButton

    yield SheetVersionsButton(page=page, priority=55)
