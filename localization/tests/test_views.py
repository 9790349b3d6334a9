"""Sync (wagtail-localize's "Sync translated pages", locale-scoped here) and the machine
translator's configuration."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from wagtail.models import Page
from wagtail_localize.models import Translation

from localization.tests.test_boundaries import assert_refused
from portal_site.settings.base import machine_translator

User = get_user_model()


def client_for(world_ids, name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=world_ids[name]))
    return client


@pytest.mark.django_db
def test_sync_only_for_who_may_translate_every_locale_and_never_publishes(world_ids):
    source = Translation.objects.get(pk=world_ids["cs_translation"]).source
    url = f"/admin/localize/update/{source.pk}/"
    en = Page.objects.get(pk=world_ids["en"]).specific
    en.title = "F9 battlecard 2027"
    en.save_revision().publish()
    cs_before = Page.objects.get(pk=world_ids["cs"]).title

    # A Czech marketer may not sync: it would update the German translation too.
    assert_refused(client_for(world_ids, "jiri").get(url))
    editor = client_for(world_ids, "editor")
    assert editor.get(url).status_code == 200
    # "Publish immediately" would bypass review.
    assert_refused(editor.post(url, {"publish_translations": "on"}))
    assert not source.stringsegment_set.filter(string__data="F9 battlecard 2027").exists()

    assert editor.post(url, {}).status_code == 302
    source.refresh_from_db()
    assert source.stringsegment_set.filter(string__data="F9 battlecard 2027").exists()
    assert Page.objects.get(pk=world_ids["cs"]).title == cs_before  # nothing went live


def test_machine_translator_from_environment():
    deepl = machine_translator({"PORTAL_DEEPL_API_KEY": "k:fx", "PORTAL_LIBRETRANSLATE_URL": "x"})
    assert deepl["CLASS"].endswith("deepl.DeepLTranslator")
    assert deepl["OPTIONS"]["AUTH_KEY"] == "k:fx"
    libre = machine_translator({"PORTAL_LIBRETRANSLATE_URL": "https://lt.example/"})
    assert libre["CLASS"].endswith("libretranslate.LibreTranslator")
    assert libre["OPTIONS"]["LIBRETRANSLATE_URL"] == "https://lt.example"
    assert machine_translator({})["CLASS"].endswith("dummy.DummyTranslator")
    assert machine_translator({}, fallback_dummy=False) is None
    assert settings.WAGTAILLOCALIZE_MACHINE_TRANSLATOR["CLASS"].endswith("DummyTranslator")
