"""Wagtail's user admin with the portal's profile fields (language, time zone)."""

from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .forms import PortalUserCreationForm, PortalUserEditForm


class UserViewSet(WagtailUserViewSet):
    def get_form_class(self, for_update=False):
        return PortalUserEditForm if for_update else PortalUserCreationForm
