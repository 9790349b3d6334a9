"""Products are translatable snippets (docs/decisions.md, "Products are translatable"): a
translation keeps its source's key, the key is unique per locale, the default locale's row is THE
product, and an item's translation keeps pointing at the source product."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from wagtail.models import Locale, Page
from wagtail_localize.models import Translation, TranslationSource

from kb.models import PortalItemPage, Product
from kb.services import product_ensure
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db


def translate(instance, code: str):
    """The translation of ``instance`` into ``code`` the way wagtail-localize's Translate action
    makes it (TranslationSource + Translation.save_target): a draft for a page, saved for a
    snippet (a Product has no drafts)."""
    source, _ = TranslationSource.get_or_create_from_instance(instance)
    translation, _ = Translation.objects.get_or_create(
        source=source, target_locale=Locale.objects.get(language_code=code)
    )
    translation.save_target(publish=not isinstance(instance, Page))
    return translation.get_target_instance()


def product_translation(product: Product, code: str, name: str) -> Product:
    """``product`` translated into ``code``, its name then translated as a translator would."""
    translated = translate(product, code)
    translated.name = name
    translated.save()
    return translated


def test_a_translation_keeps_the_key_and_only_the_name_is_translated(portal):
    x5 = product_ensure(name="X5 Campus Switch")
    assert (x5.key, x5.locale) == ("x5-campus-switch", Locale.get_default())

    cs = product_translation(x5, "cs", "Přepínač X5")

    assert cs.pk != x5.pk
    assert (cs.key, cs.translation_key, cs.locale.language_code) == (
        x5.key,
        x5.translation_key,
        "cs",
    )
    # The key is synchronised, never offered for translation.
    source = TranslationSource.objects.get_for_instance(x5)
    assert set(source.stringsegment_set.values_list("string__data", flat=True)) == {
        "X5 Campus Switch"
    }


def test_the_key_is_unique_per_locale_only(portal):
    product_ensure(name="F9")
    cs = Locale.objects.get(language_code="cs")
    Product.objects.create(key="f9", name="F9 (cs)", locale=cs)  # another locale: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(key="f9", name="F9 again", locale=Locale.get_default())


def test_product_ensure_finds_the_source_row_not_a_translation(portal):
    x5 = product_ensure(name="X5")
    product_translation(x5, "cs", "X5 (cs)")
    product_translation(x5, "de", "X5 (de)")

    assert product_ensure(name="X5") == x5
    assert Product.objects.filter(key="x5").count() == 3


def test_an_item_translation_keeps_the_source_product_even_when_it_is_not_translated(portal):
    untranslated = product_ensure(name="Cloud Manager")
    item = make_item(key="cm-sheet", product=untranslated)

    # wagtail-localize would raise MissingRelatedObjectError for a translatable field.
    cs_item = translate(item, "cs")

    assert PortalItemPage.objects.get(pk=cs_item.pk).product_id == untranslated.pk


def test_an_item_translation_is_not_rewritten_to_the_product_translation(portal):
    x5 = product_ensure(name="X5")
    de_x5 = product_translation(x5, "de", "X5 Switch (de)")
    item = make_item(key="x5-sheet", product=x5)

    de_item = translate(item, "de")

    assert PortalItemPage.objects.get(pk=de_item.pk).product_id == x5.pk != de_x5.pk
