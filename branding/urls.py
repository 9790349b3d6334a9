from django.urls import path

from . import views

app_name = "branding"
urlpatterns = [
    path("brand/style.css", views.brand_css, name="css"),
    path("brand/logo/", views.brand_logo, name="logo"),
]
