"""The digest e-mail: what it names (only what the policy lets the user see, at sending time),
in whose language and time zone, when it is due, that it goes once per slot, and the signed
one-click switch-off link. Django's locmem e-mail backend (settings/test.py)."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.models import DigestFrequency
from digest.models import DigestSubscription
from digest.selectors import absolute_url
from digest.services import (
    SIGNING_SALT,
    _address_tag,
    digest_due_users,
    digest_send,
    digest_send_due,
    digest_slot,
    digest_token_make,
)
from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from files.versions import document_version_add
from kb.models import PortalItemPage
from kb.services import Audience, FileSpec, attachment_version_propose, download_record
from kb.tests.factories import make_item
from ops.tests.faults import FailingStatements, TerminatedBackend
from permissions.services import audience_set_exceptions
from permissions.tests.factories import MembershipFactory, OrganizationFactory, TierFactory
from scheduling.registry import jobs_registered

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a terminated backend: PostgreSQL"
)

# A Tuesday, 09:00 UTC: 10:00 in Berlin, after the 07:00 slot everywhere used below.
NOW = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
SLOT_UTC = datetime(2030, 1, 15, 7, 0, tzinfo=UTC)


def _published(item, *, first: datetime, last: datetime | None = None) -> PortalItemPage:
    PortalItemPage.objects.filter(pk=item.pk).update(
        first_published_at=first, last_published_at=last or first
    )
    return PortalItemPage.objects.get(pk=item.pk)


@pytest.fixture
def world(portal):
    gold = TierFactory(key="gold", name="Gold", rank=5)
    silver = TierFactory(key="silver", name="Silver", rank=1)
    gold_member = MembershipFactory(organization=OrganizationFactory(tier=gold))
    silver_member = MembershipFactory(organization=OrganizationFactory(tier=silver))
    items = {
        "open": make_item(key="open-sheet", title="Open Sheet"),
        "gold": make_item(key="gold-sheet", title="Gold Sheet", audience=Audience(min_tier=gold)),
        "old": make_item(key="old-sheet", title="Old Sheet"),
        "revised": make_item(key="revised-sheet", title="Revised Sheet"),
    }
    items["open"] = _published(items["open"], first=NOW - timedelta(hours=3))
    items["gold"] = _published(items["gold"], first=NOW - timedelta(hours=2))
    items["old"] = _published(items["old"], first=NOW - timedelta(days=20))
    items["revised"] = _published(
        items["revised"], first=NOW - timedelta(days=20), last=NOW - timedelta(hours=1)
    )
    return {"gold": gold_member.user, "silver": silver_member.user, "items": items}


def _subscribe(user, *, frequency="daily", language="en", zone="UTC", last=None):
    user.digest_frequency = frequency
    user.preferred_language = language
    user.time_zone = zone
    user.save()
    DigestSubscription.objects.update_or_create(
        user=user, defaults={"last_sent_at": last or SLOT_UTC - timedelta(days=1)}
    )
    return user


def _mail_to(user):
    found = [m for m in mail.outbox if m.to == [user.email]]
    assert len(found) == 1, [m.to for m in mail.outbox]
    message = found[0]
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    return message, html


# -- content and language --------------------------------------------------------------------------


def test_english_digest_names_what_the_user_may_see_with_absolute_links(world):
    user = _subscribe(world["gold"])

    run = digest_send_due(NOW)

    assert run.sent == 1
    message, html = _mail_to(user)
    assert message.subject == "Partner Portal: Digest of new and updated items"
    for name in ("Open Sheet", "Gold Sheet", "Revised Sheet"):
        assert name in message.body and name in html
    assert "Old Sheet" not in message.body  # published before the last digest
    assert "Jan. 15, 2030, 6 a.m." in message.body  # Open Sheet, in UTC, English format
    assert "New for you" in html and "Updated items" in html
    item = world["items"]["open"]
    url = "http://127.0.0.1:8000" + item.get_url_parts()[2]
    assert f'href="{url}"' in html and url in message.body


def test_german_digest_speaks_german_in_the_users_time_zone(world):
    user = _subscribe(world["gold"], language="de", zone="Europe/Berlin")

    digest_send_due(NOW)

    message, html = _mail_to(user)
    # Strings the catalogue already has (new ones are translated after the merge).
    assert message.subject == "Partnerportal: Zusammenfassung neuer und aktualisierter Einträge"
    assert "Neu für Sie" in message.body and "Neu für Sie" in html
    assert "Hallo " in message.body
    # 06:00 UTC is 07:00 in Berlin, in German date format (Django's own catalogue).
    assert "15. Januar 2030 07:00" in message.body
    assert "Europe/Berlin" in message.body
    assert message.extra_headers["Content-Language"] == "de"
    assert '<html lang="de"' in html


def test_hidden_items_are_never_named_and_visibility_is_asked_at_sending_time(world):
    silver = _subscribe(world["silver"])
    gold = _subscribe(world["gold"])
    # Between publication and sending, an exception hides Open Sheet from the gold partner.
    audience_set_exceptions(
        page=world["items"]["open"], organizations=[gold.membership.organization]
    )

    digest_send_due(NOW)

    silver_mail, silver_html = _mail_to(silver)
    assert "Gold Sheet" not in silver_mail.body + silver_html + silver_mail.subject
    assert "Open Sheet" in silver_mail.body
    gold_mail, gold_html = _mail_to(gold)
    assert "Open Sheet" not in gold_mail.body + gold_html
    assert "Gold Sheet" in gold_mail.body


# -- what the user downloaded: new versions and withdrawals ----------------------------------------
# The version-aware reads (kb.selectors.downloads_updated / downloads_withdrawn) ask whether a
# version or an item has expired against the real clock, so these tests run at the real time.


def _pdf(name: str, text: str, title: str) -> FileSpec:
    return FileSpec(name=name, content=make_pdf_bytes(text), title=title)


@pytest.fixture
def downloads(portal):
    """A partner who downloaded three items' files three days ago; since then one file got a
    new version, one item was renamed and unpublished, one file's version expired."""
    user = MembershipFactory().user
    earlier = timezone.now() - timedelta(days=3)
    x1 = make_item(key="x1", title="X1 Sheet", files=[_pdf("x1.pdf", "v1", "X1 datasheet (EN)")])
    gone = make_item(key="gone", title="Gone Sheet", files=[_pdf("g.pdf", "g", "Gone file")])
    kept = make_item(key="kept", title="Kept Sheet", files=[_pdf("k.pdf", "k", "Kept file")])
    for item in (x1, gone, kept):
        document = item.attachments.get().document
        download_record(user=user, item=item, document=document, at=earlier)
    v1 = x1.attachments.get().document
    v2 = document_version_add(
        v1,
        name="x1.pdf",
        content=make_pdf_bytes("v2"),
        notes="Corrected the pinout.",
        label="2026.2",
    )
    attachment_version_propose(page=x1, version=v2).publish()
    gone_url = absolute_url(gone)
    gone.title = "Secret new title"
    gone.save_revision().publish()
    gone.unpublish()
    PortalDocument.objects.filter(pk=kept.attachments.get().document_id).update(
        expire_at=timezone.now() - timedelta(minutes=1)
    )
    return {
        "user": user,
        "x1": PortalItemPage.objects.get(pk=x1.pk),
        "kept": PortalItemPage.objects.get(pk=kept.pk),
        "gone_url": gone_url,
        "earlier": earlier,
    }


def _send_now(user, **subscription) -> datetime:
    now = timezone.now()
    _subscribe(user, last=now - timedelta(days=1), **subscription)
    assert digest_send_due(now).sent == 1
    return now


def _text_section(body: str, heading: str) -> str:
    return body.split(f"== {heading} ==")[1].split("\n== ")[0].split("\n-- \n")[0]


def test_english_digest_lists_new_versions_of_downloads_and_what_was_withdrawn(downloads):
    user = downloads["user"]
    _send_now(user)

    message, html = _mail_to(user)
    updated = _text_section(message.body, "Updated since you downloaded")
    x1_url = absolute_url(downloads["x1"])
    assert "X1 Sheet" in updated and x1_url in updated
    assert "X1 datasheet (EN): v1 → v2 (2026.2)" in updated
    assert "What changed: Corrected the pinout." in updated
    assert "you downloaded it " + date_format(downloads["earlier"], "DATETIME_FORMAT") in updated
    # Listed once: not again under "New for you", although it was first published today.
    assert message.body.count("X1 Sheet") == 1 and html.count(">X1 Sheet<") == 1
    assert "Kept Sheet" in message.body  # new for them, and its file withdrawn

    withdrawn = _text_section(message.body, "Withdrawn")
    assert "* Gone Sheet" in withdrawn  # the title they saw
    assert "Kept Sheet: Kept file (v1) was withdrawn" in withdrawn
    assert absolute_url(downloads["kept"]) in withdrawn  # still theirs to open: linked
    # The item they can no longer open: never linked, its new title never named.
    for text in (message.body, html):
        assert "Secret new title" not in text and downloads["gone_url"] not in text
    section = html[html.index('data-section="withdrawn"') :]
    section = section[: section.index("</section>")]
    assert '<li data-withdrawn="item"><bdi>Gone Sheet</bdi>' in section
    assert f'<a href="{absolute_url(downloads["kept"])}"><bdi>Kept Sheet</bdi></a>' in section
    assert 'data-lineage="' in html


def test_german_digest_lists_them_in_german_dates_and_the_users_time_zone(downloads):
    user = downloads["user"]
    _send_now(user, language="de", zone="Europe/Berlin")

    message, html = _mail_to(user)
    assert "Hallo " in message.body
    # Strings the catalogue already has (new ones are translated after the merge).
    updated = _text_section(message.body, "Seit Ihrem Download aktualisiert")
    assert "X1 datasheet (EN): v1 → v2 (2026.2)" in updated
    with translation.override("de"), timezone.override(ZoneInfo("Europe/Berlin")):
        downloaded = date_format(timezone.localtime(downloads["earlier"]), "DATETIME_FORMAT")
        day = date_format(timezone.localtime(downloads["earlier"]), "DATE_FORMAT")
    assert downloaded in updated
    section = html[html.index('data-section="withdrawn"') :]
    assert "<bdi>Gone Sheet</bdi>" in section and day in section
    assert "Secret new title" not in message.body + html
    assert downloads["gone_url"] not in message.body + html


def test_a_withdrawal_is_told_once(downloads):
    user = downloads["user"]
    first = _send_now(user)
    mail.outbox.clear()

    digest_send_due(first + timedelta(days=1))

    for message in mail.outbox:  # "Kept Sheet" etc. are no longer new either
        assert "Gone Sheet" not in message.body


def test_new_versions_e_mail_without_a_digest_tells_only_about_downloads(downloads):
    user = downloads["user"]
    user.notify_new_versions = True
    user.save()
    _send_now(user, frequency=DigestFrequency.NONE)

    message, html = _mail_to(user)
    assert message.subject == "Partner Portal: Updates of what you downloaded"
    assert "X1 datasheet (EN): v1 → v2 (2026.2)" in message.body and "Gone Sheet" in html
    assert "New for you" not in message.body  # "Kept Sheet" is new, but not their download
    assert "asked in your profile to be told when a file you downloaded" in message.body

    # Its one-click link switches it off (no digest to switch off).
    token = message.extra_headers["List-Unsubscribe"].split("/switch/")[1].split("/")[0]
    assert Client().post(_switch_path(token)).status_code == 200
    user.refresh_from_db()
    assert not user.notify_new_versions and user.digest_frequency == DigestFrequency.NONE
    assert digest_due_users(timezone.now() + timedelta(days=1)) == []


def test_new_versions_e_mail_is_not_sent_when_nothing_they_downloaded_changed(world):
    user = world["gold"]
    user.notify_new_versions = True
    user.save()
    _subscribe(user, frequency=DigestFrequency.NONE)

    run = digest_send_due(NOW)

    assert run.sent == 0 and run.empty == 1 and mail.outbox == []


def test_nothing_new_sends_nothing_but_moves_the_window(world):
    user = _subscribe(world["gold"])
    PortalItemPage.objects.update(
        first_published_at=NOW - timedelta(days=40), last_published_at=NOW - timedelta(days=40)
    )

    run = digest_send_due(NOW)

    assert (run.sent, run.empty) == (0, 1) and mail.outbox == []
    assert DigestSubscription.objects.get(user=user).last_sent_at == NOW


def test_suspended_and_inactive_users_get_nothing(world):
    user = _subscribe(world["gold"])
    organization = user.membership.organization
    organization.status = organization.Status.SUSPENDED
    organization.save()
    inactive = _subscribe(world["silver"])
    inactive.is_active = False
    inactive.save()

    digest_send_due(NOW)

    assert mail.outbox == []


# -- when, and only once ---------------------------------------------------------------------------


def test_two_runs_send_once_and_two_racing_workers_send_once(world):
    user = _subscribe(world["gold"])
    # Two workers that both found the user due before either sent:
    first, second = digest_due_users(NOW), digest_due_users(NOW)
    (due_a,) = [d for d in first if d.user.pk == user.pk]
    (due_b,) = [d for d in second if d.user.pk == user.pk]
    assert digest_send(due_a.user, now=NOW, slot=due_a.slot, last_sent_at=due_a.last_sent_at)
    lost = digest_send(due_b.user, now=NOW, slot=due_b.slot, last_sent_at=due_b.last_sent_at)
    assert lost is None
    # And a later run the same day: nothing is due.
    assert digest_send_due(NOW + timedelta(hours=3)).sent == 0
    assert len(mail.outbox) == 1


def test_due_at_the_hour_of_the_users_own_time_zone(world, settings):
    settings.PORTAL_DIGEST_HOUR = 7
    tokyo = _subscribe(world["gold"], zone="Asia/Tokyo", last=NOW - timedelta(days=2))
    # 21:59 UTC is 06:59 in Tokyo: yesterday's slot (07:00 Tokyo = 22:00 UTC the day before).
    tokyo_slot = datetime(2030, 1, 14, 22, 0, tzinfo=UTC)
    DigestSubscription.objects.filter(user=tokyo).update(last_sent_at=tokyo_slot)
    assert digest_due_users(datetime(2030, 1, 15, 21, 59, tzinfo=UTC)) == []
    due = digest_due_users(datetime(2030, 1, 15, 22, 0, tzinfo=UTC))
    assert [d.user.pk for d in due] == [tokyo.pk]


def test_weekly_digest_comes_on_the_configured_weekday(settings):
    settings.PORTAL_DIGEST_HOUR, settings.PORTAL_DIGEST_WEEKDAY = 7, 0  # Mondays 07:00
    berlin = ZoneInfo("Europe/Berlin")
    slot = digest_slot(NOW, berlin, DigestFrequency.WEEKLY)  # Tuesday -> Monday
    assert slot == datetime(2030, 1, 14, 7, 0, tzinfo=berlin)
    early_monday = datetime(2030, 1, 14, 5, 0, tzinfo=UTC)  # 06:00 Berlin: the week before
    assert digest_slot(early_monday, berlin, DigestFrequency.WEEKLY) == datetime(
        2030, 1, 7, 7, 0, tzinfo=berlin
    )


def test_daily_slot_keeps_local_time_across_daylight_saving(settings):
    settings.PORTAL_DIGEST_HOUR = 7
    berlin = ZoneInfo("Europe/Berlin")
    # 31 March 2030: clocks go forward; 07:00 local is 05:00 UTC (06:00 UTC the day before).
    slot = digest_slot(datetime(2030, 3, 31, 12, 0, tzinfo=UTC), berlin, DigestFrequency.DAILY)
    assert slot.astimezone(UTC) == datetime(2030, 3, 31, 5, 0, tzinfo=UTC)
    slot = digest_slot(datetime(2030, 3, 30, 12, 0, tzinfo=UTC), berlin, DigestFrequency.DAILY)
    assert slot.astimezone(UTC) == datetime(2030, 3, 30, 6, 0, tzinfo=UTC)


def test_first_run_starts_the_clock_and_the_first_digest_comes_at_the_next_slot(world):
    user = world["gold"]
    user.digest_frequency = DigestFrequency.DAILY
    user.save()

    assert digest_send_due(NOW).sent == 0  # no row yet: starts at today's slot
    assert DigestSubscription.objects.get(user=user).last_sent_at == SLOT_UTC
    assert mail.outbox == []
    _published(world["items"]["old"], first=NOW + timedelta(hours=1))

    assert digest_send_due(NOW + timedelta(days=1)).sent == 1
    message, _html = _mail_to(user)
    assert "Old Sheet" in message.body and "Revised Sheet" in message.body
    assert "Open Sheet" not in message.body  # published before the clock started


def test_a_failed_send_is_retried_on_the_next_run(world, settings):
    user = _subscribe(world["gold"])
    before = DigestSubscription.objects.get(user=user).last_sent_at
    settings.EMAIL_BACKEND = "digest.tests.test_digest.RefusingBackend"

    run = digest_send_due(NOW)

    assert run.failed == 1
    assert DigestSubscription.objects.get(user=user).last_sent_at == before
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digest_send_due(NOW).sent == 1


def _two_due_partners():
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code="en")  # a transactional test starts empty
    users = [MembershipFactory().user for _ in range(2)]
    for user in users:
        user.digest_frequency = DigestFrequency.DAILY
        user.save()
        DigestSubscription.objects.create(user=user, last_sent_at=SLOT_UTC - timedelta(days=1))
    return users


# PostgreSQL only (as every transactional test here): the flush after a transactional test empties
# the reused SQLite test database of what the migrations made (groups, permissions), and the CI's
# engine leg, which reuses that database, then failed.
@needs_postgresql
@pytest.mark.django_db(transaction=True)  # autocommit, as in a task worker
def test_a_lost_connection_during_a_run_costs_no_user_their_digest():
    """The fault drill's finding (issue #16): a database fault while one user's digest was
    claimed failed that user and, the connection being dead, every user after them; their
    digests waited for the next run. Now the user is retried once on a fresh connection."""
    users = _two_due_partners()
    fault = FailingStatements(r'SET "last_sent_at" = %s WHERE', times=1)
    with connection.execute_wrapper(fault):
        run = digest_send_due(NOW)
    assert fault.raised == 1
    assert (run.failed, run.sent + run.empty) == (0, 2)  # both runs done (nothing new to tell)
    assert set(DigestSubscription.objects.values_list("last_sent_at", flat=True)) == {NOW}
    assert {u.pk for u in users} == set(DigestSubscription.objects.values_list("user", flat=True))


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        r'SET "last_sent_at" = %s WHERE',  # the claim: never made, retried
        r'FROM "wagtailcore_page"',  # after the claim: given back, retried
    ],
)
def test_postgresql_a_terminated_connection_mid_run_costs_no_user_their_digest(statement):
    _two_due_partners()
    fault = TerminatedBackend(statement, times=1)
    with connection.execute_wrapper(fault):
        run = digest_send_due(NOW)
    assert fault.terminated == 1
    assert (run.failed, run.sent + run.empty) == (0, 2)
    assert set(DigestSubscription.objects.values_list("last_sent_at", flat=True)) == {NOW}


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise OSError("the SMTP server refused")


def test_the_task_workers_run_the_digest_job():
    job = jobs_registered()["digest.send_due"]  # digest/apps.py
    assert job.interval == timedelta(minutes=15) and job.func is digest_send_due


def test_send_digests_command(world):
    _subscribe(world["gold"], last=datetime.now(UTC) - timedelta(days=3))
    out = io.StringIO()

    call_command("send_digests", stdout=out)

    assert "sent" in out.getvalue()


# -- the profile setting ---------------------------------------------------------------------------


def test_the_profile_setting_switches_the_digest(world):
    user = _subscribe(world["gold"], frequency=DigestFrequency.NONE)
    client = Client()
    client.force_login(user)
    html = client.get("/portal/account/profile/").content.decode()
    assert 'name="digest_frequency"' in html and 'value="daily"' in html
    assert "Sent at 7 a.m. in your time zone (weekly: on Monday)" in html
    assert digest_due_users(NOW) == []
    digest_send_due(NOW - timedelta(hours=1))  # a run while it is off forgets the old window

    client.post(
        "/portal/account/profile/",
        {"preferred_language": "en", "time_zone": "UTC", "digest_frequency": "daily"},
    )

    # On again: the clock starts at today's slot, the first digest comes tomorrow.
    assert [d.user.pk for d in digest_due_users(NOW)] == [user.pk]
    assert digest_send_due(NOW).sent == 0
    assert DigestSubscription.objects.get(user=user).last_sent_at == SLOT_UTC
    assert digest_send_due(NOW + timedelta(days=1)).sent == 1
    message, _html = _mail_to(user)
    assert "Revised Sheet" in message.body and "Open Sheet" not in message.body


# -- the signed switch-off link --------------------------------------------------------------------


def _switch_path(token: str) -> str:
    return f"/portal/digest/switch/{token}/"


def test_the_digest_carries_a_one_click_switch_off(world):
    user = _subscribe(world["gold"])
    digest_send_due(NOW)
    message, html = _mail_to(user)
    header = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(http://127\.0\.0\.1:8000/portal/digest/switch/[^>]+/)>", header)[1]
    assert url in message.body and f'href="{url}"' in html
    path = url.removeprefix("http://127.0.0.1:8000")

    # RFC 8058: the mail client POSTs this body, without a page or a CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.NONE


def test_get_asks_and_changes_nothing_post_switches_off_then_back_on(world):
    user = _subscribe(world["gold"], frequency=DigestFrequency.WEEKLY, language="de")
    path = _switch_path(digest_token_make(user))
    client = Client()

    page = client.get(path)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert '<html lang="de"' in page.content.decode()  # the link owner's language
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.WEEKLY

    off = client.post(path, {"action": "off"})
    assert off.status_code == 200 and 'data-state="off"' in off.content.decode()
    assert 'name="frequency" value="weekly"' in off.content.decode()  # back as it was
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.NONE

    on = client.post(path, {"action": "on", "frequency": "weekly"})
    assert on.status_code == 200 and 'data-state="on"' in on.content.decode()
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.WEEKLY


def test_a_tampered_or_foreign_link_changes_nothing(world):
    user = _subscribe(world["gold"])
    token = digest_token_make(user)
    other = world["silver"]
    forged = signing.dumps({"u": other.pk, "e": _address_tag(other.email)}, salt="another-salt")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, forged, "nonsense", token.replace(":", "", 1)):
        response = Client().post(_switch_path(bad))
        assert response.status_code == 404, bad
        assert 'data-state="invalid"' in response.content.decode()
    # A link made for the address the account had before does nothing either.
    user.email = "new-address@example.test"
    user.save()
    assert Client().post(_switch_path(token)).status_code == 404
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.DAILY


def test_an_expired_link_says_so_and_changes_nothing(world, settings):
    settings.PORTAL_DIGEST_LINK_DAYS = 30
    user = _subscribe(world["gold"])

    class Signed31DaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 31 * 24 * 3600)

    token = Signed31DaysAgo(salt=SIGNING_SALT).sign_object(
        {"u": user.pk, "e": _address_tag(user.email)}
    )

    response = Client().post(_switch_path(token))

    assert response.status_code == 410
    assert 'data-state="expired"' in response.content.decode()
    user.refresh_from_db()
    assert user.digest_frequency == DigestFrequency.DAILY
