"""Concurrent first requests for one thumbnail leave exactly one rendition row and one file
(issue #9, part 6).

Real threads, each with its own database connection, ask at once: the Wagtail admin's image
listing over HTTP (it renders each thumbnail with ``get_rendition``, like the portal's image
view in kb/views.py) and ``get_rendition`` itself. A barrier after the rendition's file is
generated makes every thread look up, generate and reach the save before any of them stores its
file, which is the interleaving that left stray files behind Wagtail's ``get_or_create()``
(both tests fail with the stock ``create_rendition``: 4 files for one rendition row). On
PostgreSQL (CI's second leg) the INSERTs genuinely race on the unique index; SQLite serialises
the writes (BEGIN IMMEDIATE), and the clash is the same: each later INSERT meets the first row.

The rows must be committed for other connections to see them, so these tests do not run in the
usual rolled-back transaction: they write through ``django_db_blocker`` and delete what they
wrote (rows and files) afterwards, leaving the reused test database as it was. pytest-django
sets the database up because the module's last test is marked: run the module, not one of the
race tests alone.
"""

from __future__ import annotations

import io
import os
import re
import threading

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test import Client
from PIL import Image

from accounts.models import User
from files.models import PortalImage, PortalRendition

THREADS = 4


def _image_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _stored_renditions(image: PortalImage) -> list[str]:
    """Rendition files of ``image`` present in the storage (local media in tests)."""
    from django.core.files.storage import default_storage

    stem = os.path.splitext(os.path.basename(image.file.name))[0]
    if not default_storage.exists("images"):
        return []
    _, files = default_storage.listdir("images")
    # "race.2e16d0ba.fill-480x300.jpg", or with the storage's suffix for a taken name
    # ("race_AbC12xY.2e16d0ba.fill-480x300.jpg": Django puts it before all the suffixes).
    own = re.compile(rf"{re.escape(stem)}(_[A-Za-z0-9]{{7}})?\.")
    return sorted(name for name in files if own.match(name))


@pytest.fixture
def committed_image(django_db_setup, django_db_blocker, local_storage):
    """A committed image (and a committed superuser), removed with their files afterwards."""
    from django.core.files.storage import default_storage

    with django_db_blocker.unblock():
        data = _image_bytes()
        image = PortalImage(title="race", file=ImageFile(io.BytesIO(data), name="race.jpg"))
        image.save()
        admin = User.objects.create_superuser(email="race-admin@example.test", password="x")
        try:
            yield image, admin
        finally:
            for name in _stored_renditions(image):
                default_storage.delete(f"images/{name}")
            image.delete()  # its renditions' rows go with it
            default_storage.delete(image.file.name)
            admin.delete()
            connection.close()


def _race(monkeypatch, image: PortalImage, make_request) -> list:
    barrier = threading.Barrier(THREADS, timeout=60)
    original = PortalImage.generate_rendition_file

    def generate_together(self, filter, *args, **kwargs):
        generated = original(self, filter, *args, **kwargs)
        if self.pk == image.pk:
            # Every thread has looked (no rendition yet) and generated; now all save at once.
            # The wait sits before the save's transaction, not inside it: on SQLite that
            # transaction starts with BEGIN IMMEDIATE, and a thread holding the write lock at
            # the barrier would keep the others from ever reaching it.
            barrier.wait()
        return generated

    monkeypatch.setattr(PortalImage, "generate_rendition_file", generate_together)
    results, errors = [], []

    def worker():
        try:
            results.append(make_request())
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()  # each thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(results) == THREADS
    return results


def test_concurrent_admin_listings_leave_one_thumbnail_file(committed_image, monkeypatch):
    image, admin = committed_image

    def request():
        client = Client()
        client.force_login(admin)
        response = client.get("/admin/images/")
        return response.status_code

    assert _race(monkeypatch, image, request) == [200] * THREADS
    renditions = list(PortalRendition.objects.filter(image=image))
    assert len(renditions) == 1
    assert _stored_renditions(image) == [os.path.basename(renditions[0].file.name)]


def test_concurrent_get_rendition_returns_one_rendition_and_one_file(committed_image, monkeypatch):
    image, _admin = committed_image

    def request():
        fresh = PortalImage.objects.get(pk=image.pk)
        return fresh.get_rendition("fill-480x300").file.name  # the portal's "thumb"

    names = _race(monkeypatch, image, request)
    assert len(set(names)) == 1
    assert PortalRendition.objects.filter(image=image).count() == 1
    assert _stored_renditions(image) == [os.path.basename(names[0])]


@pytest.mark.django_db
def test_the_loser_of_a_clash_deletes_its_own_file_and_returns_the_winner(
    local_storage, monkeypatch
):
    """The clash in one thread: another request stores the same rendition between this one's
    lookup and its save. (Also makes pytest-django set up the database when this module runs
    alone: the race tests above are not marked, their rows must be committed.)"""
    from wagtail.images.models import Filter

    data = _image_bytes()
    image = PortalImage(title="clash", file=ImageFile(io.BytesIO(data), name="clash.jpg"))
    image.save()
    spec = Filter(spec="fill-480x300")
    original = PortalImage.generate_rendition_file
    winner = {}

    def generate_while_another_saves(self, filter, **kwargs):
        result = original(self, filter, **kwargs)
        if not winner:
            winner["row"] = PortalRendition.objects.create(
                image=self,
                filter_spec=filter.spec,
                focal_point_key=filter.get_cache_key(self),
                file=original(self, filter, **kwargs),
            )
        return result

    monkeypatch.setattr(PortalImage, "generate_rendition_file", generate_while_another_saves)
    got = image.create_rendition(spec)
    assert got.pk == winner["row"].pk
    assert _stored_renditions(image) == [os.path.basename(winner["row"].file.name)]
    # And the fast path: an existing rendition is returned without generating anything.
    monkeypatch.setattr(PortalImage, "generate_rendition_file", None)
    assert image.create_rendition(spec).pk == got.pk
