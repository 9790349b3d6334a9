from django.urls import path, register_converter

from . import views
from .cobranding import views as cobranding_views
from .converters import IdConverter

register_converter(IdConverter, "id")

app_name = "kb"

urlpatterns = [
    path(
        "items/<id:page_id>/files/<id:document_id>/<str:filename>",
        views.download,
        name="download",
    ),
    path("items/<id:page_id>/image/<str:which>/<str:size>/", views.item_image, name="item_image"),
    path("items/<id:page_id>/cobrand/", cobranding_views.cobrand, name="cobrand"),
    path(
        "organizations/<id:organization_id>/logo/",
        views.brandkit_logo,
        name="brandkit_logo",
    ),
    path(
        "items/<id:page_id>/cobrand/<id:render_id>/<str:filename>",
        cobranding_views.cobrand_download,
        name="cobrand_download",
    ),
]
