"""Admin screens for partners (snippets with search and filters) and audience hooks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.actions import CreateAction, EditAction
from wagtail.log_actions import LogFormatter
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import (
    AccessChange,
    Membership,
    OrganizationChange,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from .selectors import access_change_text
from .services import (
    ACCESS_CHANGE_LOG_ACTION,
    ORGANIZATION_FIELDS,
    audience_dimension_in_use,
    organization_create,
    organization_update,
)

if TYPE_CHECKING:
    from django import forms
    from django.db.models import Model
    from django.http import HttpRequest, HttpResponseRedirect
    from wagtail.actions.registry import ActionRegistry
    from wagtail.log_actions import LogActionRegistry
    from wagtail.models import BaseLogEntry

    from files.residency import Placement


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


def _organization_values(form: forms.BaseForm) -> dict[str, Any]:
    """The organisation fields the (validated) snippet form edits, as service arguments."""
    return {name: form.cleaned_data[name] for name in ORGANIZATION_FIELDS if name in form.fields}


class OrganizationCreateAction(CreateAction):
    """The snippet "add" view creates organisations through ``organization_create`` (the same
    write as imports and the demo); Wagtail's action keeps validation, logging and hooks."""

    instance: PartnerOrganization

    def _save_instance(self) -> None:
        if self.form is None:
            self.instance = organization_create(
                **{name: getattr(self.instance, name) for name in ORGANIZATION_FIELDS}
            )
        else:
            self.instance = organization_create(**_organization_values(self.form))


class OrganizationEditAction(EditAction):
    """The snippet "edit" view saves organisations through ``organization_update``."""

    instance: PartnerOrganization

    def _save_instance(self) -> None:
        values = _organization_values(self.form) if self.form is not None else {}
        # The editing user is the actor of the audit row a brand-kit change writes.
        self.instance = organization_update(organization=self.instance, actor=self.user, **values)


@hooks.register("register_actions")
def register_organization_actions(registry: ActionRegistry) -> None:
    registry.register(PartnerOrganization, OrganizationCreateAction)
    registry.register(PartnerOrganization, OrganizationEditAction)


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


class ReadOnlyAuditPolicy(ModelPermissionPolicy):
    """The organisations' audit trail is written only by the services: nobody adds, edits or
    deletes a row in the admin. Staff who may edit organisations may read it."""

    READ = frozenset({"view"})

    def user_has_permission(self, user: Any, action: str) -> bool:
        if action not in self.READ:
            return False
        return bool(super().user_has_permission(user, action)) or bool(
            user.has_perm("permissions.change_partnerorganization")
        )

    def user_has_any_permission(self, user: Any, actions: Iterable[str]) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)


class OrganizationChangeViewSet(_PartnerViewSet):
    """A read-only listing of every organisation's audit trail (brand kit and member changes
    made on the portal's organisation page, in the admin and by imports)."""

    model = OrganizationChange
    icon = "history"
    menu_label = _("Organisation changes")
    list_display = ["created_at", "organization", "actor_email", "action", "subject_email"]
    list_filter = ["organization", "action"]
    search_fields = ["actor_email", "subject_email"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "created_at",
        "organization",
        "actor_email",
        "action",
        "subject_email",
        "before",
        "after",
    ]
    list_per_page = 50


register_permission_policy(OrganizationChange, ReadOnlyAuditPolicy(OrganizationChange))


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
        OrganizationChangeViewSet,
    )


register_snippet(PartnersGroup)


@hooks.register("register_log_actions")
def register_access_change_log_action(actions: LogActionRegistry) -> None:
    """ "Access changed" entries in a page's history (written by services.audience_apply)."""

    @actions.register_action(ACCESS_CHANGE_LOG_ACTION)
    class AccessChangeFormatter(LogFormatter):
        label = _("Change who can see the page")

        def format_message(self, log_entry: BaseLogEntry) -> str:
            data = log_entry.data or {}
            changes = "; ".join(access_change_text(change) for change in data.get("changes", []))
            sources: dict[str | None, object] = dict(AccessChange.Source.choices)
            source = sources.get(data.get("source"), data.get("source"))
            requested = data.get("requested_by")
            if requested:
                return _("Access changed (%(source)s, requested by %(user)s): %(changes)s") % {
                    "source": source,
                    "user": requested,
                    "changes": changes,
                }
            return _("Access changed (%(source)s): %(changes)s") % {
                "source": source,
                "changes": changes,
            }


@hooks.register("before_delete_snippet")
def refuse_deleting_audience_dimensions_in_use(
    request: HttpRequest, instances: Iterable[Model]
) -> HttpResponseRedirect | None:
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


@hooks.register("portal_file_placements", order=20)
def brand_kit_placements() -> Iterator[Placement]:
    """Brand kits (logos) live in their organisation's region's bucket (files/residency.py)."""
    from files.residency import Placement
    from files.storage import organization_region_key

    for org in PartnerOrganization.objects.exclude(logo="").select_related("region__parent"):
        yield Placement(
            f"brand kit of {org.key}",
            PartnerOrganization,
            org.pk,
            "logo",
            org.logo.name,
            organization_region_key(org),
        )
