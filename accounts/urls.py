"""Partner password reset under /password-reset/ (staff keep Wagtail's /admin/password_reset/)."""

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
