"""A translated library for the localization tests: built once per module (tests/fixtures.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import Locale
from wagtail_localize.models import Translation, TranslationSource

from accounts.tests.factories import UserFactory
from kb.tests.factories import make_item
from localization.services import marketer_set


def translate(page, code: str, *, publish: bool = True):
    """A synced wagtail-localize translation of ``page`` into ``code`` (draft unless
    ``publish``), the way the Translate action makes one."""
    source, _ = TranslationSource.get_or_create_from_instance(page)
    translation, _ = Translation.objects.get_or_create(
        source=source, target_locale=Locale.objects.get(language_code=code)
    )
    # save_target(publish=True) publishes on commit, which a test transaction never reaches.
    translation.save_target(publish=False)
    if publish:
        translation.get_target_instance().get_latest_revision().publish()
    return translation


@pytest.fixture(scope="module")
def world_ids(module_portal):
    """An English item translated into German and Czech (both live), an untranslated English
    item, two Czech marketers, a German marketer, a moderator and an editor."""
    battlecard = make_item(key="battlecard", title="F9 battlecard", body="<p>Win every deal.</p>")
    fresh = make_item(key="fresh", title="Fresh sheet", body="<p>New.</p>")
    de = translate(battlecard, "de")
    cs = translate(battlecard, "cs")
    jiri = marketer_set(user=UserFactory(email="jiri@vendor.example"), locales=["cs"])
    petra = marketer_set(user=UserFactory(email="petra@vendor.example"), locales=["cs"])
    hans = marketer_set(user=UserFactory(email="hans@vendor.example"), locales=["de"])
    moderator = UserFactory(email="approver@vendor.example", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    editor = UserFactory(email="eva@vendor.example", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    return {
        "en": battlecard.pk,
        "fresh": fresh.pk,
        "de": de.get_target_instance().pk,
        "cs": cs.get_target_instance().pk,
        "de_translation": de.pk,
        "cs_translation": cs.pk,
        "jiri": jiri.pk,
        "petra": petra.pk,
        "hans": hans.pk,
        "moderator": moderator.pk,
        "editor": editor.pk,
    }
