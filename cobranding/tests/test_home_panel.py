"""The portal home's co-brand slot (``portal_home_panels``): a partner's recent co-branded copies
and what they may co-brand, only items the policies let them see; nothing for staff or a
suspended member."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cobranding.models import CobrandIssue
from cobranding.selectors import cobrand_home
from cobranding.tests.helpers import make_asset
from kb.models import PortalHomePage
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.models import PartnerOrganization
from permissions.tests.factories import MembershipFactory, TierFactory

pytestmark = pytest.mark.django_db


def _slot(client) -> str:
    html = re.sub(r"\s+", " ", client.get(_home().url).content.decode())
    if 'data-home-slot="cobrand"' not in html:
        return ""
    start = html.index('data-home-slot="cobrand"')
    return html[start : html.index("</section>", start)]


def _home() -> PortalHomePage:
    return PortalHomePage.objects.get(locale__language_code="en")


def _issue(user, org, item) -> None:
    CobrandIssue.objects.create(
        organization=org,
        organization_key=org.key,
        user=user,
        user_email=user.email,
        item=item,
        item_page_id=item.pk,
        master_kind="image",
        master_version=1,
        rendered_at=timezone.now(),
    )


def test_the_slot_lists_copies_and_co_brandable_items_the_partner_may_see(portal):
    membership = MembershipFactory()
    user, org = membership.user, membership.organization
    user.preferred_language = "en"
    user.save()
    higher = TierFactory(key="cb-top", rank=10_000)
    banner = make_asset("cb-banner")
    poster = make_asset("cb-poster")
    make_asset("cb-secret", audience=Audience(min_tier=higher))
    make_asset("cb-off", co_brandable=False)
    later_hidden = make_asset("cb-was-visible")
    _issue(user, org, banner)
    _issue(user, org, later_hidden)
    # Hidden from the organisation since its copy was made: never named again.
    make_item(
        key="cb-was-visible",
        kind="marketing_asset",
        title="Withdrawn banner",
        audience=Audience(exceptions=[org]),
    )

    found = cobrand_home(user=user, locale_ids={_home().locale_id}, prefer=_home().locale_id)
    assert found is not None
    assert [c.item.pk for c in found.recent] == [banner.pk]
    assert [i.pk for i in found.available] == [poster.pk]  # the copied banner is not repeated

    client = Client()
    client.force_login(user)
    slot = _slot(client)
    assert banner.title in slot and poster.title in slot
    for hidden in ("Cb Secret", "Cb Off", "Withdrawn banner", "Cb Was Visible"):
        assert hidden not in slot, hidden

    PartnerOrganization.objects.filter(pk=org.pk).update(
        status=PartnerOrganization.Status.SUSPENDED
    )
    client = Client()
    client.force_login(user)
    assert _slot(client) == ""


def test_staff_and_partners_with_nothing_to_co_brand_get_no_slot(portal):
    make_asset("cb-any")
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    assert _slot(client) == ""
    partner = MembershipFactory(organization__tier=TierFactory(key="cb-low", rank=0)).user
    assert cobrand_home(user=partner, locale_ids=set(), prefer=0) is None
