"""Test-only URLconf: a view that reads, one that writes twice (test_database_faults.py)."""

from django.http import HttpResponse
from django.urls import path
from taggit.models import Tag

CALLS = {"write_twice": 0, "read": 0}


def read(request):
    CALLS["read"] += 1
    return HttpResponse(f"{Tag.objects.filter(slug__startswith='ops-').count()} tags")


def write_twice(request):
    CALLS["write_twice"] += 1
    Tag.objects.create(name="ops-first", slug="ops-first")
    Tag.objects.create(name="ops-second", slug="ops-second")
    return HttpResponse("written")


urlpatterns = [path("write-twice/", write_twice), path("read/", read)]
