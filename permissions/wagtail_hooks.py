"""Admin screens for partners (snippets with search and filters) and audience hooks."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Membership, PartnerOrganization, PartnerType, Region, Tier
from .services import audience_set_organizations


class TierViewSet(SnippetViewSet):
    model = Tier
    icon = "pick"
    list_display = ["name", "key", "rank"]
    search_fields = ["name"]
    ordering = ["rank"]


class RegionViewSet(SnippetViewSet):
    model = Region
    icon = "site"
    list_display = ["name", "key", "parent"]
    list_filter = ["parent"]
    search_fields = ["name"]


class PartnerTypeViewSet(SnippetViewSet):
    model = PartnerType
    icon = "tag"
    list_display = ["name", "key"]
    search_fields = ["name"]


class PartnerOrganizationViewSet(SnippetViewSet):
    model = PartnerOrganization
    icon = "group"
    menu_label = _("Organisations")
    list_display = ["name", "tier", "region", "partner_type", "country", "status"]
    list_filter = ["tier", "region", "partner_type", "status", "country"]
    search_fields = ["name", "key"]
    list_per_page = 50


class MembershipViewSet(SnippetViewSet):
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


def _apply_pending_audience_orgs(request, page):
    pending = getattr(page, "_pending_audience_orgs", None)
    if not pending:
        return
    for codename, organizations in pending.items():
        audience_set_organizations(page=page, codename=codename, organizations=organizations)
    page._pending_audience_orgs = None


hooks.register("after_create_page", _apply_pending_audience_orgs)
hooks.register("after_edit_page", _apply_pending_audience_orgs)
