"""Enforcement at Wagtail's own exits: page serving and its document URL; the products' admin."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy

from .models import PortalHomePage, Product


@hooks.register("before_serve_page")
def check_page_audience(page, request, serve_args, serve_kwargs):
    if page_policy.can_view(request.user, page):
        return None
    if not request.user.is_authenticated and page.depth <= 2:
        if isinstance(page, PortalHomePage):
            # A locale home serves anonymous visitors the public landing (kb.landing): none of
            # the home's own content, only the brand and the items the policy lets anonymous
            # users see (issue #14).
            return None
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


# --- file versions in the admin (kb.version_admin_views; docs/file-versions.md) ---


@hooks.register("register_admin_urls", order=-10)
def register_file_version_urls():
    """The "Versions" history of a file (its lineage) and its actions; and Wagtail's documents
    listing showing each file once (registered before wagtail.documents' own ``documents/``)."""
    from .version_admin_views import (
        DocumentDeleteRedirectView,
        DocumentIndexView,
        FileVersionAddView,
        FileVersionAdoptView,
        FileVersionDeleteView,
        FileVersionDownloadView,
        FileVersionRestoreView,
        FileVersionsView,
    )

    version = "files/<int:lineage>/versions/<int:version_id>"
    return [
        # Wagtail's own "Delete" of a document deletes one version: the same admin-only,
        # checked "Delete version" (its confirmation page, then kb.services).
        path(
            "documents/delete/<int:document_id>/",
            DocumentDeleteRedirectView.as_view(),
            name="portal_document_delete",
        ),
        path("documents/", DocumentIndexView.as_view(), name="portal_documents_index"),
        path(
            "documents/results/",
            DocumentIndexView.as_view(results_only=True),
            name="portal_documents_index_results",
        ),
        path(
            "files/<int:lineage>/versions/", FileVersionsView.as_view(), name="portal_file_versions"
        ),
        path(
            "files/<int:lineage>/versions/new/",
            FileVersionAddView.as_view(),
            name="portal_file_version_add",
        ),
        path(f"{version}/adopt/", FileVersionAdoptView.as_view(), name="portal_file_version_adopt"),
        path(
            f"{version}/restore/",
            FileVersionRestoreView.as_view(),
            name="portal_file_version_restore",
        ),
        path(
            f"{version}/download/",
            FileVersionDownloadView.as_view(),
            name="portal_file_version_download",
        ),
        path(
            f"{version}/delete/", FileVersionDeleteView.as_view(), name="portal_file_version_delete"
        ),
    ]


@hooks.register("construct_document_chooser_queryset")
def document_chooser_newest_versions(documents, request):
    """The chooser offers each file once: its newest version."""
    from files.versions import document_newest_versions

    return document_newest_versions(documents)


@hooks.register("before_bulk_action")
def refuse_bulk_document_delete(request, action_type, objects, action):
    """The documents listing's bulk "Delete" deletes versions: superusers only
    (``can_delete_version``), and never a version an item uses (live or in its latest draft)."""
    from files.models import PortalDocument

    from .versions import file_uses

    model = getattr(action, "model", None)
    if action_type != "delete" or model is None or not issubclass(model, PortalDocument):
        return None
    if not document_policy.can_delete_version(request.user):
        raise PermissionDenied
    for document in objects:
        for use in file_uses(document.lineage or document.pk):
            if document in (use.live, use.pending):
                raise PermissionDenied
    return None


# --- the portal home's staff panels (kb.home; the hook is kb's own: docs/home.md) -------------


@hooks.register("portal_home_panels")
def home_review_panel(request, home):
    """Staff: the pages awaiting their review (Wagtail's workflow tasks they may act on)."""
    from django.urls import reverse

    from permissions.policies.principal import principal_for

    from .home import HomePanel, home_reviews

    if principal_for(request.user).kind != "staff":
        return None
    return HomePanel(
        slot="review",
        title=_("Awaiting your review"),
        template="kb/includes/home_admin_list.html",
        context={
            "list": home_reviews(user=request.user),
            "empty": _("Nothing awaits your review."),
            "more_url": reverse("wagtailadmin_home"),
            "more": _("Open the admin dashboard"),
        },
        placement="main",
        order=10,
    )


@hooks.register("portal_home_panels")
def home_drafts_panel(request, home):
    """Staff: their drafts (pages they edited last whose changes are not live yet)."""
    from django.urls import reverse

    from permissions.policies.principal import principal_for

    from .home import HomePanel, home_drafts

    if principal_for(request.user).kind != "staff":
        return None
    return HomePanel(
        slot="drafts",
        title=_("Your drafts"),
        template="kb/includes/home_admin_list.html",
        context={
            "list": home_drafts(user=request.user),
            "empty": _("You have no unpublished changes. Edit or add pages in the admin."),
            "more_url": reverse("wagtailadmin_explore_root"),
            "more": _("Open the page tree"),
        },
        placement="main",
        order=20,
    )


# --- the page editor: autosave only what the editor changed; preview as a partner ---------
# (issue #14, docs/decisions.md "Issue #14 — Editors")


@hooks.register("insert_editor_js")
def editor_autosave_js():
    """Opening a page saves nothing; a create form is never autosaved
    (kb/static/kb/admin/editor-autosave.js says why)."""
    from django.templatetags.static import static
    from django.utils.html import format_html

    return format_html('<script src="{}" defer></script>', static("kb/admin/editor-autosave.js"))


@hooks.register("before_create_page")
def refuse_create_autosave(request, parent_page, page_class):
    """An autosave of a create form would create the page (a draft whose slug then clashes with
    the page the editor creates later): refused. The editor's script turns autosave off on create
    forms; this answers a request that comes anyway (an old tab, another client). Saving the
    form with its buttons is an HTML request and goes on as usual."""
    from django.http import JsonResponse

    if request.method == "POST" and not request.accepts("text/html"):
        return JsonResponse(
            {
                "success": False,
                "error_code": "autosave_disabled",
                "error_message": str(
                    _("A new page is saved only with “Save draft” (no autosave before that).")
                ),
            },
            status=400,
        )
    return None


@hooks.register("register_admin_urls")
def register_preview_as_url():
    """The editor's "Preview as" choice (kb.preview)."""
    from .preview import preview_as_set

    return [path("kb/preview-as/", preview_as_set, name="kb_preview_as")]
