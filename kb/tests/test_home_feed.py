"""The home's "New for you": only what the user may see, in the home's language and the source
language, one item per translation group."""

from __future__ import annotations

import pytest
from wagtail.models import Locale

from kb.home import HOME_DOWNLOADS_TTL, _ttl_until_first, home_feed
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


def test_the_cached_home_lists_are_computed_again_when_a_listed_item_expires(portal, monkeypatch):
    """The home's new and expiring lists are shared for a minute per entitlement; an item that
    stops being visible by the clock (no publish marks it) must not stay listed: the entry is
    kept no longer than until the first listed expiry."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    user = MembershipFactory().user
    make_item(key="stays", title="Stays")
    make_item(key="ends", title="Ends soon", expire_at=timezone.now() + timedelta(seconds=30))
    home = PortalHomePage.objects.get(locale__language_code="en")
    kept: dict[str, int] = {}
    real_set = cache.set

    def spy(key, value, timeout=None, **kwargs):
        for name in ("portal:home:new:", "portal:home:expiring:"):
            if key.startswith(name):
                kept[name] = timeout
        return real_set(key, value, timeout, **kwargs)

    monkeypatch.setattr(cache, "set", spy)
    feed = home_feed(user=user, home=home)
    assert {item.title for item in feed.new_for_you} == {"Stays", "Ends soon"}
    assert [entry.item.title for entry in feed.expiring] == ["Ends soon"]
    assert set(kept) == {"portal:home:new:", "portal:home:expiring:"}
    assert all(1 <= timeout <= 30 for timeout in kept.values()), kept
    # The bound itself: a minute unless a listed entry expires sooner, never below a second.
    now = timezone.now()
    assert _ttl_until_first([], now) == _ttl_until_first([None], now) == HOME_DOWNLOADS_TTL
    assert _ttl_until_first([now + timedelta(days=10), None], now) == HOME_DOWNLOADS_TTL
    assert _ttl_until_first([now + timedelta(days=1), now + timedelta(seconds=5)], now) == 5
    assert _ttl_until_first([now + timedelta(milliseconds=200)], now) == 1
