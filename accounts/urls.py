"""Account URLs: the partner password reset under /password-reset/ (``urlpatterns``; staff keep
Wagtail's /admin/password_reset/) and the partner's own account pages under /portal/account/
(``account_urlpatterns``, namespace ``accounts``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("done/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "complete/",
        views.PortalPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

account_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("language/", views.language_set, name="language"),
    # Partner admins: their organisation's brand kit and members (docs/organizations.md).
    path("organization/", views.organization, name="organization"),
    path("organization/invite/", views.organization_invite, name="organization_invite"),
    path(
        "organization/invitations/<int:pk>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("organization/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("organization/members/<int:pk>/active/", views.member_active, name="member_active"),
    # The link of the invitation e-mail (anonymous visitors).
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
