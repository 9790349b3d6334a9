"""Digest URLs, under /portal/digest/ (namespace ``digest``)."""

from django.urls import path

from . import views

app_name = "digest"

urlpatterns = [
    path("switch/<str:token>/", views.digest_switch, name="switch"),
]
