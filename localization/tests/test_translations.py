"""page_translation_create / page_translation_sync: translations made through wagtail-localize,
placed under the parent's translation, with their own (narrowing) audience, idempotent."""

from __future__ import annotations

import pytest
from wagtail.models import Locale, PageLogEntry, Revision
from wagtail_localize.models import StringTranslation, Translation

from kb.services import Audience, item_upsert, library_for_locale
from kb.tests.factories import make_item
from localization.services import (
    TranslationError,
    locale_for,
    page_translation_create,
    page_translation_sync,
)
from permissions.tests.factories import OrganizationFactory, RegionFactory, TierFactory

BODY = "<p>First paragraph.</p><p>Second paragraph.</p>"


@pytest.fixture
def source(portal):
    return make_item(
        key="x1-sheet", title="X1 datasheet", summary="A router.", body=BODY, kind="product_sheet"
    )


def test_creates_a_draft_translation_under_the_parents_translation(source):
    page = page_translation_create(
        source=source,
        locale="cs",
        fields={"title": "Datový list X1", "summary": "Router."},
    )

    assert page.locale.language_code == "cs"
    assert page.translation_key == source.translation_key
    assert page.get_parent().pk == library_for_locale("cs").pk
    assert not page.live  # the admin flow publishes only after review
    latest = page.get_latest_revision_as_object()
    assert (latest.title, latest.summary) == ("Datový list X1", "Router.")
    # Untranslated texts fall back to the source's.
    assert "First paragraph." in latest.body
    # wagtail-localize knows it: the translation editor and sync work on it.
    assert Translation.objects.filter(
        source__object_id=source.translation_key, target_locale=page.locale
    ).exists()
    assert StringTranslation.objects.filter(locale=page.locale, data="Datový list X1").exists()


def test_publish_and_translated_rich_text_kept_in_translation_memory(source):
    page = page_translation_create(
        source=source,
        locale="de",
        fields={"title": "X1 Datenblatt", "body": "<p>Erster Absatz.</p><p>Zweiter Absatz.</p>"},
        publish=True,
    )

    assert page.live
    assert page.title == "X1 Datenblatt"
    assert "Erster Absatz." in page.body and "Zweiter Absatz." in page.body
    assert StringTranslation.objects.filter(data="Zweiter Absatz.").exists()


def test_a_body_of_another_structure_is_written_as_given(source):
    body = "<h2>Überblick</h2><p>Ein Absatz.</p><p>Noch einer.</p>"
    page = page_translation_create(source=source, locale="de", fields={"body": body}, publish=True)

    assert "Überblick" in page.body and "Noch einer." in page.body


def test_second_call_updates_the_same_page_and_an_unchanged_call_writes_nothing(source):
    first = page_translation_create(
        source=source, locale="cs", fields={"title": "Datový list X1"}, publish=True
    )
    second = page_translation_create(
        source=source, locale="cs", fields={"title": "Datový list X1 (v3)"}, publish=True
    )
    assert second.pk == first.pk
    assert second.title == "Datový list X1 (v3)"

    revisions = Revision.page_revisions.filter(object_id=str(first.pk)).count()
    logs = PageLogEntry.objects.filter(page_id=first.pk).count()
    again = page_translation_create(
        source=source, locale="CS", fields={"title": "Datový list X1 (v3)"}, publish=True
    )
    assert again.pk == first.pk
    assert Revision.page_revisions.filter(object_id=str(first.pk)).count() == revisions
    assert PageLogEntry.objects.filter(page_id=first.pk).count() == logs


def test_without_publish_a_live_translation_keeps_what_partners_see(source):
    page = page_translation_create(
        source=source, locale="cs", fields={"title": "Datový list X1"}, publish=True
    )
    page_translation_create(source=source, locale="cs", fields={"title": "Nový název"})

    page.refresh_from_db()
    assert page.title == "Datový list X1"
    assert page.has_unpublished_changes
    assert page.get_latest_revision_as_object().title == "Nový název"


def test_own_audience_narrows_and_survives_a_sync(source):
    gold, cz = TierFactory(rank=30), RegionFactory(key="cz")
    page = page_translation_create(
        source=source,
        locale="cs",
        audience=Audience(min_tier=gold, regions=[cz]),
        publish=True,
    )
    assert page.audience_min_tier == gold
    assert list(page.audience_regions.all()) == [cz]

    item_upsert(
        key="x1-sheet",
        kind="product_sheet",
        title="X1 datasheet v4",
        parent=library_for_locale("en"),
        summary="A router.",
        body=BODY,
    )
    (synced,) = page_translation_sync(source=source, publish=True)

    assert synced.pk == page.pk
    assert synced.title == "X1 datasheet v4"  # not translated yet: the source's text
    assert synced.audience_min_tier == gold
    assert list(synced.audience_regions.all()) == [cz]


def test_grants_and_exceptions_are_refused_on_a_translation(source):
    org = OrganizationFactory()
    with pytest.raises(TranslationError, match="grants and exceptions"):
        page_translation_create(source=source, locale="cs", audience=Audience(grants=[org]))
    with pytest.raises(TranslationError, match="audience_exceptions"):
        page_translation_create(source=source, locale="cs", fields={"audience_exceptions": [org]})
    assert source.get_translation_or_none(Locale.objects.get(language_code="cs")) is None


def test_new_translation_without_audience_copies_the_sources_rule_but_not_its_grants(portal):
    silver, org = TierFactory(rank=20), OrganizationFactory()
    source = make_item(key="f9", audience=Audience(min_tier=silver, grants=[org]))

    page = page_translation_create(source=source, locale="de", publish=True)

    assert page.audience_min_tier == silver
    assert not page.audience_grants.exists()


def test_refusals(source):
    german = page_translation_create(source=source, locale="de", publish=True)
    with pytest.raises(TranslationError, match="translation of a translation"):
        page_translation_create(source=german, locale="cs")
    with pytest.raises(TranslationError, match="already in locale"):
        page_translation_create(source=source, locale="en")
    with pytest.raises(TranslationError, match='unknown locale "fr"'):
        page_translation_create(source=source, locale="fr")

    child = make_item(key="x1-brochure", kind="marketing_asset", parent=source)
    with pytest.raises(TranslationError, match='has no translation in "cs"'):
        page_translation_create(source=child, locale="cs")
    # Under a translated parent it is placed under that translation.
    assert page_translation_create(source=child, locale="de").get_parent().pk == german.pk


def test_locale_for_accepts_any_case(portal):
    assert locale_for("DE").language_code == "de"
    assert locale_for(" Cs ").language_code == "cs"


def test_a_source_object_holding_a_raw_stream_is_read_as_stored(portal):
    modules = [
        {
            "type": "module",
            "value": {"title": "Unbox", "steps": [{"title": "Check", "body": "Router."}]},
        }
    ]
    source = make_item(key="guide", kind="training_guide", extra={"modules": modules})
    source.modules = modules  # as the demo's second run holds it: blocks without ids

    page = page_translation_create(source=source, locale="cs", fields={"title": "Příručka"})

    assert page.get_latest_revision_as_object().title == "Příručka"
