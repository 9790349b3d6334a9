from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts.forms import PortalAuthenticationForm
from accounts.urls import account_urlpatterns
from accounts.views import AdminPasswordResetConfirmView
from branding import views as branding_views
from kb import views as kb_views
from ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    # Wagtail's staff reset link, with the lockout lift of accounts (same URL and name).
    path(
        "admin/password_reset/confirm/<uidb64>/<token>/",
        AdminPasswordResetConfirmView.as_view(),
        name="wagtailadmin_password_reset_confirm",
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=PortalAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", include("accounts.urls")),
    path("portal/account/", include((account_urlpatterns, "accounts"))),
    path("i18n/", include("django.conf.urls.i18n")),
    # The brand (issue #14): its stylesheet and logo, and the icon browsers ask for at the root.
    path("", include("branding.urls")),
    path("favicon.ico", branding_views.favicon, name="favicon"),
    path("portal/", include("kb.urls")),
    path("portal/", include("cobranding.urls")),
    path("", include("sharing.urls")),
    path("portal/digest/", include("digest.urls")),
    path("search/", include("search.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", kb_views.staff_media, name="staff_media"),
] + i18n_patterns(
    # English content at /, translations at /de/, /cs/: Wagtail routes by the URL's language.
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
