"""cobranding's contributions to other apps' pages and to the admin, through Wagtail hooks (no
upward imports)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from permissions.policies.cobranding import cobrand_identify_policy, cobrand_template_policy

from .selectors import cobrand_available


@hooks.register("portal_item_actions")
def cobrand_action(request, item) -> str | None:
    """The "Co-brand" button on an item the user may co-brand for their organisation."""
    if not cobrand_available(user=request.user, item=item):
        return None
    from permissions.policies.principal import principal_for

    from .selectors import cobrand_render_current
    from .services import cobrand_master

    kind = cobrand_master(item).kind
    # A copy made from the current sources already: offer it (its status page) beside the button.
    organization = principal_for(request.user).organization
    # cobrand_available answered yes, so the user is a partner of an organisation.
    current = cobrand_render_current(item, organization) if organization is not None else None
    return render_to_string(
        "cobranding/cobrand_action.html",
        {"page": item, "kind": kind, "current": current},
        request=request,
    )


@hooks.register("register_admin_urls")
def register_cobranding_admin_urls():
    from .admin_views import (
        IdentifyView,
        PageTemplateRedirectView,
        TemplateEditView,
        TemplateIndexView,
        TemplatePreviewView,
    )

    return [
        path("cobranding/templates/", TemplateIndexView.as_view(), name="cobranding_templates"),
        path(
            "cobranding/templates/<str:kind>/<int:master_id>/",
            TemplateEditView.as_view(),
            name="cobranding_template_edit",
        ),
        path(
            "cobranding/templates/<str:kind>/<int:master_id>/preview/",
            TemplatePreviewView.as_view(),
            name="cobranding_template_preview",
        ),
        path(
            "cobranding/pages/<int:page_id>/template/",
            PageTemplateRedirectView.as_view(),
            name="cobranding_page_template",
        ),
        path("cobranding/identify/", IdentifyView.as_view(), name="cobranding_identify"),
    ]


@hooks.register("register_page_header_buttons")
def cobrand_template_header_button(page, user, view_name, next_url=None):
    from .admin_views import CobrandTemplateButton

    yield CobrandTemplateButton(page=page, priority=67)


class IdentifyMenuItem(MenuItem):
    def is_shown(self, request):
        return cobrand_identify_policy.can_identify(request.user)


@hooks.register("register_reports_menu_item")
def register_identify_menu_item():
    return IdentifyMenuItem(
        _("Identify a file"), reverse("cobranding_identify"), icon_name="search", order=900
    )


class TemplatesMenuItem(MenuItem):
    def is_shown(self, request):
        return cobrand_template_policy.can_edit(request.user)


@hooks.register("register_settings_menu_item")
def register_templates_menu_item():
    return TemplatesMenuItem(
        _("Co-brand templates"), reverse("cobranding_templates"), icon_name="image", order=710
    )


@hooks.register("register_permissions")
def register_cobranding_permissions():
    # Shown in Wagtail's group editor: who edits templates, who may identify files.
    return Permission.objects.filter(
        content_type__app_label="cobranding",
        codename__in=["change_cobrandtemplate", "identify_cobrandissue"],
    )


@hooks.register("portal_file_placements", order=30)
def render_placements():
    """Renders live in their organisation's region's bucket, like its brand kit."""
    from files.residency import Placement
    from files.storage import organization_region_key

    from .models import CobrandRender

    renders = (
        CobrandRender.objects.exclude(file="")
        .select_related("organization__region__parent")
        .order_by("pk")
    )
    for render in renders:
        yield Placement(
            f"co-brand render {render.pk} of {render.organization.key}",
            CobrandRender,
            render.pk,
            "file",
            render.file.name,
            organization_region_key(render.organization),
        )


@hooks.register("portal_home_panels")
def cobrand_home_panel(request, home):
    """The portal home's co-brand slot: the partner's recent co-branded copies and what they
    may co-brand (``cobrand_home`` asks the policies); nothing for anyone else."""
    from kb.home import HomePanel
    from kb.selectors import default_locale

    from .selectors import cobrand_home

    found = cobrand_home(
        user=request.user,
        locale_ids={home.locale_id, default_locale().pk},
        prefer=home.locale_id,
    )
    if found is None:
        return None
    return HomePanel(
        slot="cobrand",
        title=_("Co-brand"),
        template="cobranding/home_panel.html",
        context={"cobrand": found},
        placement="aside",
        order=20,
    )
