from django.urls import path

from . import views
from .cobranding import views as cobranding_views

app_name = "kb"

urlpatterns = [
    path(
        "items/<int:page_id>/files/<int:document_id>/<str:filename>",
        views.download,
        name="download",
    ),
    path("items/<int:page_id>/image/<str:which>/<str:size>/", views.item_image, name="item_image"),
    path("items/<int:page_id>/cobrand/", cobranding_views.cobrand, name="cobrand"),
    path(
        "organizations/<int:organization_id>/logo/",
        views.brandkit_logo,
        name="brandkit_logo",
    ),
    path(
        "items/<int:page_id>/cobrand/<int:render_id>/<str:filename>",
        cobranding_views.cobrand_download,
        name="cobrand_download",
    ),
]
