"""Content services: downloads are recorded through ``download_record`` only; library sections
through ``section_upsert`` (as seed_demo makes them)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.tests.factories import UserFactory
from kb.models import DownloadEvent, LibraryIndexPage
from kb.services import Audience, download_record, library_for_locale, section_upsert
from kb.tests.factories import make_item
from permissions.tests.factories import (
    MembershipFactory,
    PartnerTypeFactory,
    RegionFactory,
    TierFactory,
)


def test_download_record_keeps_partner_downloads_with_their_organisation(portal):
    item = make_item(key="sheet")
    membership = MembershipFactory()

    event = download_record(user=membership.user, item=item, document=None)

    assert event is not None
    row = DownloadEvent.objects.get()
    assert (row.user_id, row.organization_id, row.item_id) == (
        membership.user.pk,
        membership.organization.pk,
        item.pk,
    )


def test_download_record_ignores_staff_and_unaffiliated_users(portal):
    item = make_item(key="sheet")
    staff = UserFactory(is_staff=True)
    loner = UserFactory()

    assert download_record(user=staff, item=item, document=None) is None
    assert download_record(user=loner, item=item, document=None) is None
    assert not DownloadEvent.objects.exists()


def test_download_record_backdates_when_given_a_moment(portal):
    item = make_item(key="sheet")
    membership = MembershipFactory()
    moment = timezone.now() - timedelta(days=12)

    download_record(user=membership.user, item=item, document=None, at=moment)

    assert DownloadEvent.objects.get().downloaded_at == moment


def test_section_upsert_creates_publishes_and_leaves_an_unchanged_section_alone(portal):
    library = library_for_locale("en")
    gold, emea, reseller = TierFactory(rank=5), RegionFactory(), PartnerTypeFactory()
    audience = Audience(min_tier=gold, regions=[emea], partner_types=[reseller])
    section = section_upsert(
        parent=library, slug="sales", title="Sales", intro="<p>Decks</p>", audience=audience
    )
    section = LibraryIndexPage.objects.get(pk=section.pk)
    assert section.live and section.get_parent().pk == library.pk
    assert section.locale_id == library.locale_id
    assert section.audience.own_min_rank == 5  # compiled on publish
    assert {r.pk for r in section.audience_regions.all()} == {emea.pk}
    assert {t.pk for t in section.audience_partner_types.all()} == {reseller.pk}
    revisions = section.revisions.count()

    again = section_upsert(
        parent=library, slug="sales", title="Sales", intro="<p>Decks</p>", audience=audience
    )
    assert again.pk == section.pk
    assert section.revisions.count() == revisions  # nothing changed: no revision, no publish

    section_upsert(parent=library, slug="sales", title="Sales and marketing", audience=None)
    section = LibraryIndexPage.objects.get(pk=section.pk)
    assert section.revisions.count() == revisions + 1
    assert (section.title, section.intro, section.audience_min_tier) == (
        "Sales and marketing",
        "",
        None,
    )
    assert not section.audience_regions.exists()
    assert LibraryIndexPage.objects.child_of(library).filter(slug="sales").count() == 1
