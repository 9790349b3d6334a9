"""PO and XLIFF (1.2, 2.0) round trips through the admin (issue #11, deliverable 3): export,
edit one unit, import: that StringTranslation changed and nothing else; an unchanged file
changes nothing; a file of another translation is refused."""

from __future__ import annotations

import io

import polib
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from translate.storage import xliff as xliff1
from translate.storage import xliff2
from wagtail_localize.models import StringTranslation, Translation

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def jiri(world_ids) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=world_ids["jiri"]))
    return client


@pytest.fixture
def translation(world_ids, jiri) -> Translation:
    """The Czech battlecard with every string machine-translated (the dummy translator)."""
    translation = Translation.objects.get(pk=world_ids["cs_translation"])
    response = jiri.post(f"/admin/localize/translate/{translation.pk}/machine_translate/")
    assert response.status_code == 302
    assert strings(translation), "the dummy machine translator translated nothing"
    return translation


def strings(translation: Translation) -> dict[str, tuple[str, object]]:
    rows = StringTranslation.objects.filter(
        context__object_id=translation.source.object_id, locale=translation.target_locale
    ).select_related("context")
    return {row.context.path: (row.data, row.updated_at) for row in rows}


def upload(client: Client, url: str, content: bytes, name: str):
    handle = io.BytesIO(content)
    handle.name = name
    return client.post(url, {"file": handle})


STORES = {"1.2": xliff1.xlifffile, "2.0": xliff2.Xliff2File}


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_xliff_round_trip(translation, jiri, version):
    url = f"/admin/localization/translations/{translation.pk}/xliff/{version}/"
    response = jiri.get(url)
    assert response.status_code == 200
    data = response.content
    assert f'version="{version}"'.encode() in data
    before = strings(translation)

    # Unchanged: a no-op.
    upload_url = f"/admin/localization/translations/{translation.pk}/xliff/"
    assert upload(jiri, upload_url, data, "same.xlf").status_code == 302
    assert strings(translation) == before

    # One unit edited: that string only.
    store = STORES[version].parsestring(data)
    title = next(unit for unit in store.units if (unit.getid() or "").endswith("title"))
    title.target = "Bitevní karta (agentura)"
    assert upload(jiri, upload_url, bytes(store), "edited.xlf").status_code == 302
    after = strings(translation)
    assert after["title"][0] == "Bitevní karta (agentura)"
    assert {k: v for k, v in after.items() if k != "title"} == {
        k: v for k, v in before.items() if k != "title"
    }


def test_xliff_of_another_translation_refused(world_ids, translation, jiri):
    de = Translation.objects.get(pk=world_ids["de_translation"])
    hans = Client()
    hans.force_login(User.objects.get(pk=world_ids["hans"]))
    data = hans.get(f"/admin/localization/translations/{de.pk}/xliff/1.2/").content
    before = strings(translation)
    response = upload(
        jiri, f"/admin/localization/translations/{translation.pk}/xliff/", data, "x.xlf"
    )
    assert response.status_code == 200
    assert "another translation" in response.content.decode() or "not an XLIFF" in (
        response.content.decode()
    )
    assert strings(translation) == before
    response = upload(
        jiri, f"/admin/localization/translations/{translation.pk}/xliff/", b"<html/>", "x.xlf"
    )
    assert response.status_code == 200
    assert strings(translation) == before


def test_po_round_trip(translation, jiri):
    response = jiri.get(f"/admin/localize/translate/{translation.pk}/pofile/download/")
    assert response.status_code == 200
    before = strings(translation)
    next_url = "/admin/"

    def post(po: polib.POFile):
        handle = io.BytesIO(str(po).encode())
        handle.name = "t.po"
        return jiri.post(
            f"/admin/localize/translate/{translation.pk}/pofile/upload/",
            {"file": handle, "next": next_url},
        )

    po = polib.pofile(response.content.decode())
    assert post(po).status_code == 302
    assert strings(translation) == before
    entry = next(entry for entry in po if entry.msgctxt == "title")
    entry.msgstr = "Bitevní karta (PO)"
    assert post(po).status_code == 302
    after = strings(translation)
    assert after["title"][0] == "Bitevní karta (PO)"
    assert {k: v for k, v in after.items() if k != "title"} == {
        k: v for k, v in before.items() if k != "title"
    }
