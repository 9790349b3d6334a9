"""Property test: a digest names only items the recipient may see when it is sent, and names
every group of visible new, updated and re-published downloaded items.

The worlds are the policy property test's (permissions/tests/test_policy_properties.py: tiers,
regions with parents, partner types, organisations some suspended, a tree of items with random
audiences and live states, grants, exceptions, German translations with their own rules, sources
unpublished after translating), plus an unaffiliated and a staff user. On top, Hypothesis draws
each item's first and last publication, each user's language and time zone, and downloads (also
of items the user can no longer see). The oracle is ``page_policy.can_view``, asked at sending
time. Examples: the hypothesis profile's, at most 30.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import Locale

from accounts.models import DigestFrequency, User
from digest.models import DigestSubscription
from digest.selectors import absolute_url
from digest.services import digest_send_due, digest_slot
from kb.models import DownloadEvent, PortalItemPage
from kb.services import library_for_locale, site_structure_ensure
from permissions.policies.pages import page_policy
from permissions.tests import test_policy_properties as policy_world

NOW = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
# Each example builds a world and sends every user's digest (~2 s): at most 30 per run, as many
# in CI (the policy itself gets its 1,000 examples in permissions/).
EXAMPLES = min(settings().max_examples, 30)
ZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"]
TITLE = re.compile(r"Item\d+(?:-de)?")
URL = re.compile(r"https?://[^\s\"<>]+")


class DigestNamesOnlyVisibleItems(TestCase):
    @classmethod
    def setUpTestData(cls):
        site_structure_ensure(hostname="testserver", port=80)
        for code in ("en", "de"):
            library = library_for_locale(code)
            library.audience_public = True  # the generated sections' own rules decide
            library.save()

    @settings(deadline=None, max_examples=EXAMPLES)
    @given(world=policy_world.worlds(), data=st.data())
    def test_digest_names_exactly_what_the_policy_lets_the_user_see(self, world, data):
        _pages, users, _translated = policy_world.PolicyAgreementTests._build(self, world)
        users = [
            *users,
            User.objects.create_user(email="nobody@example.test", password=None),
            # Staff see every live item: the "every visible change is named" side at full size.
            User.objects.create_user(email="staff@example.test", password=None, is_staff=True),
        ]
        items = list(PortalItemPage.objects.all())
        for item in items:
            first = NOW - timedelta(hours=data.draw(st.integers(1, 72)))
            last = min(NOW, first + timedelta(hours=data.draw(st.integers(0, 48))))
            PortalItemPage.objects.filter(pk=item.pk).update(
                first_published_at=first, last_published_at=last
            )
        since: dict[int, datetime] = {}
        for user in users:
            user.preferred_language = data.draw(st.sampled_from(["en", "de", "cs"]))
            user.time_zone = data.draw(st.sampled_from(ZONES))
            user.digest_frequency = DigestFrequency.DAILY
            user.save()
            slot = digest_slot(NOW, ZoneInfo(user.time_zone), DigestFrequency.DAILY)
            since[user.pk] = slot - timedelta(days=1)
            DigestSubscription.objects.create(user=user, last_sent_at=since[user.pk])
            for item in data.draw(st.lists(st.sampled_from(items), max_size=3, unique=True)):
                event = DownloadEvent.objects.create(user=user, item=item)
                at = NOW - timedelta(hours=data.draw(st.integers(1, 96)))
                DownloadEvent.objects.filter(pk=event.pk).update(downloaded_at=at)
        mail.outbox.clear()

        digest_send_due(NOW)

        by_title = {item.title: item for item in PortalItemPage.objects.all()}
        by_url = {absolute_url(item): item for item in by_title.values()}
        locales = dict(Locale.objects.values_list("language_code", "pk"))
        default = Locale.get_default().pk
        for user in User.objects.filter(pk__in=[u.pk for u in users]):
            sent = [m for m in mail.outbox if m.to == [user.email]]
            assert len(sent) <= 1
            text = ""
            if sent:
                message = sent[0]
                html = "".join(body for body, _kind in message.alternatives)
                text = f"{message.subject}\n{message.body}\n{html}"
            named = {by_title[title] for title in TITLE.findall(text)}
            for url in URL.findall(text):
                if url in by_url:
                    named.add(by_url[url])
                else:  # the portal, the profile and the switch-off link only
                    assert (
                        "/portal/account/" in url
                        or "/portal/digest/" in url
                        or (url.rstrip("/").count("/") == 2)
                    ), url
            # Every item named: visible to this user now.
            for item in named:
                assert page_policy.can_view(user, item), (user.email, item.title, "named")
            # Every visible change in the window: its translation group is named.
            groups = {item.translation_key for item in named}
            readable = {default, locales.get(user.preferred_language, default)}
            start = since[user.pk]
            downloads = dict(
                DownloadEvent.objects.filter(user=user)
                .values_list("item_id", "downloaded_at")
                .order_by("downloaded_at")
            )
            for item in PortalItemPage.objects.filter(live=True):
                if not page_policy.can_view(user, item):
                    continue
                changed = start < item.last_published_at <= NOW
                wanted = changed and item.locale_id in readable
                downloaded = downloads.get(item.pk)
                if changed and downloaded is not None and item.last_published_at > downloaded:
                    wanted = True  # "updated since you downloaded": in any language
                if wanted:
                    assert item.translation_key in groups, (user.email, item.title, "missing")
            assert bool(sent) == bool(named)
