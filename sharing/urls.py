"""Share-link URLs (namespace ``sharing``, mounted at the root): the partner's under /portal/,
the customer's at /s/<token>/ (outside /portal/ and outside the language prefixes)."""

from django.urls import path

import kb.converters  # noqa: F401 - registers <id:...>

from . import views

app_name = "sharing"

urlpatterns = [
    # Partner side.
    path("portal/items/<id:page_id>/share/", views.share_create, name="create"),
    path("portal/share-links/", views.share_links, name="links"),
    path("portal/share-links/<id:link_id>/revoke/", views.share_revoke, name="revoke"),
    # Customer side: no login, no portal around it.
    path("s/<str:token>/", views.customer_page, name="customer"),
    path("s/<str:token>/download", views.customer_download, name="customer_download"),
]
