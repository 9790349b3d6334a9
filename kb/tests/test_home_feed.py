"""The home's "New for you": only what the user may see, in the home's language and the source
language, one item per translation group."""

from __future__ import annotations

import pytest
from wagtail.models import Locale

from kb.home import home_feed
from kb.models import PortalHomePage
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _translate(source, code: str):
    copy = source.copy_for_translation(Locale.objects.get(language_code=code))
    copy.title = f"{source.title} ({code})"
    copy.save_revision().publish()
    copy.refresh_from_db()
    return copy


def test_new_for_you_shows_one_version_per_item_in_the_homes_language(portal):
    user = MembershipFactory().user
    x1 = make_item(key="x1-sheet", title="X1 datasheet")
    w3 = make_item(key="w3-sheet", title="W3 datasheet")
    x1_cs = _translate(x1, "cs")
    _translate(x1, "de")
    czech = home_feed(user=user, home=PortalHomePage.objects.get(locale__language_code="cs"))
    titles = [item.title for item in czech.new_for_you]
    # The Czech X1 instead of its English source, the English W3 (no Czech yet), no German.
    assert sorted(titles) == sorted([x1_cs.title, w3.title])
    english = home_feed(user=user, home=PortalHomePage.objects.get(locale__language_code="en"))
    assert sorted(item.title for item in english.new_for_you) == ["W3 datasheet", "X1 datasheet"]
