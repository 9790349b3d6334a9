"""Property test: a digest names only items the recipient may see when it is sent, and names
every group of visible new, updated and re-versioned downloaded items; its withdrawn section
names only what the recipient themself downloaded, by the title they saw (CLARIFICATIONS 8).

The worlds are the policy property test's (permissions/tests/test_policy_properties.py: tiers,
regions with parents, partner types, organisations some suspended, a tree of items with random
audiences and live states, grants, exceptions, German translations with their own rules, sources
unpublished after translating), plus an unaffiliated and a staff user. On top, Hypothesis draws each
item's first and last publication, files on some items, each user's language and time zone, the
digest or only the new-version e-mail (``notify_new_versions``), and downloads (of a file version or
of the item, also of items the user can no longer see); then a downloaded file gets a new version
published, or its version expires, or nothing. The oracle is ``page_policy.can_view``, asked at
sending time: every item named outside the withdrawn section, and every item linked anywhere, passes
it; the withdrawn section names exactly the ``title_seen`` of the user's own withdrawn downloads.
Examples: the hypothesis profile's, at most 30.

The version-aware reads check expiry against the real clock, so the run happens now (not at a
fixed moment) and every time is drawn relative to it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import Locale

from accounts.models import DigestFrequency, User
from digest.models import DigestSubscription
from digest.selectors import absolute_url
from digest.services import digest_send_due, digest_slot
from files.tests.factories import make_pdf_bytes
from files.versions import document_version_add
from kb.models import DownloadEvent, ItemAttachment, PortalItemPage
from kb.selectors import downloads_withdrawn
from kb.services import document_create, library_for_locale, site_structure_ensure
from permissions.policies.pages import page_policy
from permissions.tests import test_policy_properties as policy_world

# Each example builds a world and sends every user's digest (~2 s): at most 30 per run, as many
# in CI (the policy itself gets its 1,000 examples in permissions/).
EXAMPLES = min(settings().max_examples, 30)
ZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"]
TITLE = re.compile(r"Item\d+(?:-de)?")  # item titles (file titles are "Datasheet N")
URL = re.compile(r"https?://[^\s\"<>]+")


def _split_withdrawn(message, language: str) -> tuple[str, str]:
    """(everything but the withdrawn section, the withdrawn section) of a digest: the HTML
    section ``data-section="withdrawn"`` and the text from its heading to the signature."""
    html = "".join(body for body, _kind in message.alternatives)
    withdrawn = ""
    if 'data-section="withdrawn"' in html:
        start = html.index('<section data-section="withdrawn"')
        end = html.index("</section>", start)
        withdrawn, html = html[start:end], html[:start] + html[end:]
    text = message.body
    with translation.override(language):
        heading = f"== {gettext('Withdrawn')} =="
    if heading in text:
        start = text.index(heading)
        end = text.index("\n-- \n", start)
        withdrawn += text[start:end]
        text = text[:start] + text[end:]
    return f"{message.subject}\n{text}\n{html}", withdrawn


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
    def test_digest_names_exactly_what_the_policy_lets_the_user_see(self, world, data):  # noqa: C901
        _pages, users, _translated = policy_world.PolicyAgreementTests._build(self, world)
        users = [
            *users,
            User.objects.create_user(email="nobody@example.test", password=None),
            # Staff see every live item: the "every visible change is named" side at full size.
            User.objects.create_user(email="staff@example.test", password=None, is_staff=True),
        ]
        now = timezone.now()
        items = list(PortalItemPage.objects.all())
        for item in items:
            first = now - timedelta(hours=data.draw(st.integers(1, 72)))
            last = min(now, first + timedelta(hours=data.draw(st.integers(0, 48))))
            PortalItemPage.objects.filter(pk=item.pk).update(
                first_published_at=first, last_published_at=last
            )
        # Files on some items: one version each, downloaded below, changed after.
        files: dict[int, ItemAttachment] = {}
        for n, item in enumerate(
            data.draw(st.lists(st.sampled_from(items), max_size=3, unique=True))
        ):
            document = document_create(
                name=f"d{n}.pdf", content=make_pdf_bytes(f"d{n} v1"), title=f"Datasheet {n}"
            )
            files[item.pk] = ItemAttachment.objects.create(page=item, document=document)
        since: dict[int, datetime] = {}
        versions_only: set[int] = set()  # no digest, the new-version e-mail (downloads only)
        for user in users:
            user.preferred_language = data.draw(st.sampled_from(["en", "de", "cs"]))
            user.time_zone = data.draw(st.sampled_from(ZONES))
            user.digest_frequency = DigestFrequency.DAILY
            if data.draw(st.sampled_from([False, False, True])):
                user.digest_frequency = DigestFrequency.NONE
                user.notify_new_versions = True
                versions_only.add(user.pk)
            user.save()
            slot = digest_slot(now, ZoneInfo(user.time_zone), DigestFrequency.DAILY)
            since[user.pk] = slot - timedelta(days=1)
            DigestSubscription.objects.create(user=user, last_sent_at=since[user.pk])
            # Items with a file are drawn more often, and their file more often than the item.
            filed = [item for item in items if item.pk in files]
            chosen = st.lists(st.sampled_from(filed * 2 + items), max_size=3, unique=True)
            for item in data.draw(chosen):
                attachment = files.get(item.pk)
                with_file = data.draw(st.sampled_from([True, True, False]))
                document = attachment.document if attachment and with_file else None
                download = DownloadEvent.objects.create(
                    user=user,
                    item=item,
                    document=document,
                    lineage=document.lineage if document else None,
                    version_number=document.version_number if document else None,
                    title_seen=item.title,
                )
                at = now - timedelta(hours=data.draw(st.integers(1, 96)))
                DownloadEvent.objects.filter(pk=download.pk).update(downloaded_at=at)
        # The staff user (who sees every live item) downloaded every file three days ago. The
        # portal records partners' downloads only, but the reads do not ask whose they are, and
        # this makes "a new version of a file you downloaded" common in the examples.
        by_pk = {item.pk: item for item in items}
        for item_pk, attachment in files.items():
            download = DownloadEvent.objects.create(
                user=users[-1],
                item_id=item_pk,
                document=attachment.document,
                lineage=attachment.document.lineage,
                version_number=attachment.document.version_number,
                title_seen=by_pk[item_pk].title,
            )
            DownloadEvent.objects.filter(pk=download.pk).update(
                downloaded_at=now - timedelta(days=3)
            )
        # After the downloads: a new version published, the version expired, or nothing.
        for item_pk, attachment in files.items():
            change = data.draw(st.sampled_from(["new version", "new version", "expired", "none"]))
            # Within the last 20 hours: in every user's window (which starts 24-48 hours ago).
            at = now - timedelta(minutes=data.draw(st.integers(1, 20 * 60)))
            if change == "new version":
                version = document_version_add(
                    attachment.document,
                    name="v2.pdf",
                    content=make_pdf_bytes(f"{item_pk} v2"),
                    label="2026.2",
                    notes="What changed in v2.",
                )
                # What publishing the revision that adopts it does (kb.services).
                ItemAttachment.objects.filter(pk=attachment.pk).update(document=version)
                PortalItemPage.objects.filter(pk=item_pk).update(last_published_at=at)
            elif change == "expired":
                type(attachment.document).objects.filter(pk=attachment.document_id).update(
                    expire_at=at
                )
        mail.outbox.clear()

        digest_send_due(now)

        by_title = {item.title: item for item in PortalItemPage.objects.all()}
        by_url = {absolute_url(item): item for item in by_title.values()}
        locales = dict(Locale.objects.values_list("language_code", "pk"))
        default = Locale.get_default().pk
        for user in User.objects.filter(pk__in=[u.pk for u in users]):
            sent = [m for m in mail.outbox if m.to == [user.email]]
            assert len(sent) <= 1
            text, withdrawn = "", ""
            if sent:
                text, withdrawn = _split_withdrawn(sent[0], user.preferred_language)
            named = {by_title[title] for title in TITLE.findall(text)}
            for url in URL.findall(text + withdrawn):
                if url in by_url:
                    # Nothing hidden is linked anywhere, the withdrawn section included.
                    assert page_policy.can_view(user, by_url[url]), (user.email, url, "linked")
                    named.add(by_url[url])
                else:  # the portal, the profile and the switch-off link only
                    assert (
                        "/portal/account/" in url
                        or "/portal/digest/" in url
                        or (url.rstrip("/").count("/") == 2)
                    ), url
            # Every item named outside the withdrawn section: visible to this user now.
            for item in named:
                assert page_policy.can_view(user, item), (user.email, item.title, "named")
            # The withdrawn section names exactly the titles they saw of their own withdrawn
            # downloads (in the window), nothing else.
            start = since[user.pk]
            own = DownloadEvent.objects.filter(user=user)
            withdrawn_names = set(TITLE.findall(withdrawn))
            assert withdrawn_names <= set(own.values_list("title_seen", flat=True))
            expected = {
                w.title_seen
                for w in downloads_withdrawn(user, since=start, limit=100)
                if w.when is not None and start < w.when <= now
            }
            assert withdrawn_names == expected, (user.email, withdrawn_names, expected)
            # Every visible change in the window: its translation group is named.
            groups = {item.translation_key for item in named}
            readable = {default, locales.get(user.preferred_language, default)}
            seen_versions = dict(
                own.exclude(lineage__isnull=True)
                .values("lineage")
                .annotate(v=Max("version_number"))
                .values_list("lineage", "v")
            )
            for item in PortalItemPage.objects.filter(live=True):
                if not page_policy.can_view(user, item):
                    continue
                changed = start < item.last_published_at <= now
                wanted = changed and item.locale_id in readable and user.pk not in versions_only
                attachment = ItemAttachment.objects.filter(page=item).first()
                if changed and attachment is not None:
                    document = attachment.document
                    had = seen_versions.get(document.lineage)
                    if (
                        had is not None
                        and had < document.version_number
                        and own.filter(item=item, lineage=document.lineage).exists()
                        and (document.expire_at is None or document.expire_at > now)
                        # An expired item (staff still see it) is withdrawn, not updated.
                        and (item.expire_at is None or item.expire_at > now)
                    ):
                        wanted = True  # "updated since you downloaded": in any language
                        event("a new version of a downloaded file is due")
                if wanted:
                    assert item.translation_key in groups, (user.email, item.title, "missing")
            assert bool(sent) == bool(named or withdrawn_names)
            # What the examples covered (--hypothesis-show-statistics).
            if withdrawn_names:
                event("a withdrawn section named something")
            if 'data-lineage="' in text:
                event("a new version of a downloaded file was listed")
