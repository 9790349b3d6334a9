"""A test-only URLconf: a view that writes twice (ops/tests/test_database_faults.py)."""

from django.http import HttpResponse
from django.urls import path
from taggit.models import Tag

CALLS = {"write_twice": 0}


def write_twice(request):
    CALLS["write_twice"] += 1
    Tag.objects.create(name="ops-first", slug="ops-first")
    Tag.objects.create(name="ops-second", slug="ops-second")
    return HttpResponse("written")


urlpatterns = [path("write-twice/", write_twice)]
