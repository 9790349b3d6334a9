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


@pytest.mark.django_db
def test_translate_a_product_only_into_own_locale_and_an_editor_into_any(world_ids):
    """The Products snippet's Translate action (wagtail-localize's, locale-scoped here)."""
    from wagtail.models import Locale

    from kb.models import Product
    from kb.services import product_ensure

    x5 = product_ensure(name="X5 Campus Switch")
    cs, de = (Locale.objects.get(language_code=code) for code in ("cs", "de"))
    url = f"/admin/localize/submit/snippet/kb/product/{x5.pk}/"
    jiri = client_for(world_ids, "jiri")

    form = jiri.get(url)
    assert form.status_code == 200
    offered = {locale.language_code for locale in form.context["form"].fields["locales"].queryset}
    assert offered == {"cs"}
    assert_refused(jiri.post(url, {"locales": [de.pk]}))
    assert not Product.objects.filter(key=x5.key, locale=de).exists()

    assert jiri.post(url, {"locales": [cs.pk]}).status_code == 302
    cs_x5 = Product.objects.get(key=x5.key, locale=cs)  # the same key, the same group
    assert cs_x5.translation_key == x5.translation_key
    # Jiří translates the name through the XLIFF round trip (he has no product permissions).
    translation = Translation.objects.get(source__object_id=x5.translation_key, target_locale=cs)
    assert (
        jiri.get(f"/admin/localization/translations/{translation.pk}/xliff/1.2/").status_code == 200
    )

    editor = client_for(world_ids, "editor")
    listing = editor.get("/admin/snippets/kb/product/").content.decode()
    assert f"/admin/localize/submit/snippet/kb/product/{x5.pk}/" in listing  # Translate offered
    assert editor.post(url, {"locales": [de.pk]}).status_code == 302
    assert Product.objects.get(key=x5.key, locale=de).translation_key == x5.translation_key
    assert editor.get(f"/admin/snippets/kb/product/edit/{cs_x5.pk}/").status_code == 200
