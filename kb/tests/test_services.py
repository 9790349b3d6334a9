"""Content services: downloads are recorded through ``download_record`` only."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.tests.factories import UserFactory
from kb.models import DownloadEvent
from kb.services import download_record
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory


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
