from django.urls import path

import kb.converters  # noqa: F401 - registers <id:...>

from . import views

app_name = "cobranding"

urlpatterns = [
    path("items/<id:page_id>/cobrand/", views.cobrand, name="cobrand"),
    path(
        "organizations/<id:organization_id>/logo/",
        views.brandkit_logo,
        name="brandkit_logo",
    ),
    path(
        "items/<id:page_id>/cobrand/<id:render_id>/",
        views.cobrand_status,
        name="cobrand_status",
    ),
    path(
        "items/<id:page_id>/cobrand/<id:render_id>/<str:filename>",
        views.cobrand_download,
        name="cobrand_download",
    ),
]
