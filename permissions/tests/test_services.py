"""permissions.services: the tier, region and partner type upserts (import_bundle, seed_demo)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from permissions.models import PartnerType, Region, Tier
from permissions.services import KEEP, partner_type_upsert, region_upsert, tier_upsert

pytestmark = pytest.mark.django_db


def test_tier_upsert_creates_updates_and_reports_a_rank_change():
    done = tier_upsert(key="gold", name="Gold", rank=2)
    assert (done.created, done.audiences_stale) == (True, False)
    renamed = tier_upsert(key="gold", name="Gold partners", rank=2)
    assert (renamed.created, renamed.audiences_stale) == (False, False)
    assert renamed.instance.pk == done.instance.pk
    assert tier_upsert(key="gold", name="Gold partners", rank=3).audiences_stale
    assert Tier.objects.get(key="gold").name == "Gold partners"


def test_tier_upsert_swaps_ranks_only_when_told_to_displace():
    tier_upsert(key="silver", name="Silver", rank=1)
    tier_upsert(key="gold", name="Gold", rank=2)
    with pytest.raises(ValidationError):
        tier_upsert(key="gold", name="Gold", rank=1)
    assert dict(Tier.objects.values_list("key", "rank")) == {"silver": 1, "gold": 2}

    # gold 2 → 1, silver 1 → 2: silver steps aside above every rank until it gets its own.
    assert tier_upsert(key="gold", name="Gold", rank=1, displace=True).audiences_stale
    assert Tier.objects.get(key="silver").rank > 2
    tier_upsert(key="silver", name="Silver", rank=2, displace=True)
    assert dict(Tier.objects.values_list("key", "rank")) == {"gold": 1, "silver": 2}


def test_tier_upsert_refuses_an_invalid_key():
    with pytest.raises(ValidationError):
        tier_upsert(key="Not a key", name="X", rank=1)
    assert not Tier.objects.exists()


def test_region_upsert_keeps_or_sets_the_parent_and_reports_a_move():
    dach = region_upsert(key="dach", name="DACH")  # its parent does not exist yet
    assert (dach.created, dach.audiences_stale, dach.instance.parent_id) == (True, False, None)
    emea = region_upsert(key="emea", name="EMEA").instance
    moved = region_upsert(key="dach", name="DACH", parent=emea)
    assert (moved.created, moved.audiences_stale) == (False, True)
    kept = region_upsert(key="dach", name="D-A-CH", parent=KEEP)
    assert (kept.audiences_stale, kept.instance.parent_id) == (False, emea.pk)
    assert not region_upsert(key="dach", name="D-A-CH", parent=emea).audiences_stale
    assert region_upsert(key="dach", name="D-A-CH", parent=None).audiences_stale
    assert Region.objects.get(key="dach").parent_id is None
    # A new region placed under another changes what an audience for that one covers.
    assert region_upsert(key="nordics", name="Nordics", parent=emea).audiences_stale


def test_partner_type_upsert_creates_and_updates():
    assert partner_type_upsert(key="reseller", name="Reseller").created
    done = partner_type_upsert(key="reseller", name="Value-added reseller")
    assert (done.created, done.audiences_stale) == (False, False)
    assert PartnerType.objects.get(key="reseller").name == "Value-added reseller"
    with pytest.raises(ValidationError):
        partner_type_upsert(key="-bad", name="Bad")
