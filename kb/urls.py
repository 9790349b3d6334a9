from django.urls import path

from . import (
    converters,  # noqa: F401 - registers <id:...>
    views,
)

app_name = "kb"

urlpatterns = [
    path(
        "items/<id:page_id>/files/<id:document_id>/<str:filename>",
        views.download,
        name="download",
    ),
    path("products/<slug:key>/", views.product, name="product"),
    path("items/<id:page_id>/image/<str:which>/<str:size>/", views.item_image, name="item_image"),
]
