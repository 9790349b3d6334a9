"""Admin screens for partners (snippets with search and filters) and audience hooks."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Membership, PartnerOrganization, PartnerType, Region, Tier
from .panels import pending_audience_orgs
from .services import audience_dimension_in_use, audience_set_organizations


class _PartnerViewSet(SnippetViewSet):
    # Plain ORM search (icontains) over search_fields: these tables are small and must never be
    # out of step with a search index.
    search_backend_name = None


class TierViewSet(_PartnerViewSet):
    model = Tier
    icon = "pick"
    list_display = ["name", "key", "rank"]
    search_fields = ["name"]
    ordering = ["rank"]


class RegionViewSet(_PartnerViewSet):
    model = Region
    icon = "site"
    list_display = ["name", "key", "parent"]
    list_filter = ["parent"]
    search_fields = ["name"]


class PartnerTypeViewSet(_PartnerViewSet):
    model = PartnerType
    icon = "tag"
    list_display = ["name", "key"]
    search_fields = ["name"]


class PartnerOrganizationViewSet(_PartnerViewSet):
    model = PartnerOrganization
    icon = "group"
    menu_label = _("Organisations")
    list_display = ["name", "tier", "region", "partner_type", "country", "status"]
    list_filter = ["tier", "region", "partner_type", "status", "country"]
    search_fields = ["name", "key"]
    list_per_page = 50


class MembershipViewSet(_PartnerViewSet):
    model = Membership
    icon = "user"
    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]
    search_fields = ["user__email"]


class PartnersGroup(SnippetViewSetGroup):
    menu_label = _("Partners")
    menu_icon = "group"
    menu_order = 250
    items = (
        PartnerOrganizationViewSet,
        MembershipViewSet,
        TierViewSet,
        RegionViewSet,
        PartnerTypeViewSet,
    )


register_snippet(PartnersGroup)


def _clear_pending_audience_orgs(request, *args):
    pending_audience_orgs.value = None


def _apply_pending_audience_orgs(request, page):
    pending = getattr(pending_audience_orgs, "value", None)
    pending_audience_orgs.value = None
    if not pending:
        return
    for codename, organizations in pending.items():
        audience_set_organizations(page=page, codename=codename, organizations=organizations)


hooks.register("before_create_page", _clear_pending_audience_orgs)
hooks.register("before_edit_page", _clear_pending_audience_orgs)
hooks.register("after_create_page", _apply_pending_audience_orgs)
hooks.register("after_edit_page", _apply_pending_audience_orgs)


@hooks.register("before_delete_snippet")
def refuse_deleting_audience_dimensions_in_use(request, instances):
    for instance in instances:
        if isinstance(instance, Region | PartnerType):
            pages = audience_dimension_in_use(instance=instance)
            if pages:
                messages.error(
                    request,
                    _(
                        "%(name)s is used in the audience of %(count)s page(s). Remove it from "
                        "those audiences first: deleting it would open them to everyone."
                    )
                    % {"name": instance, "count": pages},
                )
                return redirect(request.META.get("HTTP_REFERER") or "wagtailadmin_home")
    return None
