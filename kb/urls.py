from django.urls import path

from . import views

app_name = "kb"

urlpatterns = [
    path(
        "items/<int:page_id>/files/<int:document_id>/<str:filename>",
        views.download,
        name="download",
    ),
    path("items/<int:page_id>/image/<str:which>/<str:size>/", views.item_image, name="item_image"),
]
