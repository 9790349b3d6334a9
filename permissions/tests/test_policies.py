"""Named cases of the audience rules (the property test covers the random ones)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from kb.models import PortalItemPage
from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from permissions.models import PageAudience
from permissions.policies.pages import page_policy
from permissions.policies.principal import principal_for
from permissions.selectors import audience_report
from permissions.services import (
    audience_set_exceptions,
    audience_set_grants,
    organization_set_status,
)
from permissions.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PartnerTypeFactory,
    RegionFactory,
    TierFactory,
)


@pytest.fixture
def world(portal):
    tiers = {k: TierFactory(key=k, rank=r) for k, r in [("silver", 1), ("gold", 2), ("plat", 3)]}
    emea = RegionFactory(key="emea")
    regions = {
        "emea": emea,
        "dach": RegionFactory(key="dach", parent=emea),
        "apac": RegionFactory(key="apac"),
    }
    types = {k: PartnerTypeFactory(key=k) for k in ("reseller", "distributor")}

    def org(key, tier, region, ptype, **kw):
        return OrganizationFactory(
            key=key, tier=tiers[tier], region=regions[region], partner_type=types[ptype], **kw
        )

    orgs = {
        "acme": org("acme", "gold", "dach", "reseller"),
        "emea-gold": org("emea-gold", "gold", "emea", "reseller"),
        "silver-dist": org("silver-dist", "silver", "apac", "distributor"),
        "plat": org("plat", "plat", "apac", "reseller"),
    }
    users = {k: MembershipFactory(organization=o).user for k, o in orgs.items()}
    return {"tiers": tiers, "regions": regions, "types": types, "orgs": orgs, "users": users}


def fresh(user):
    """A new user object: the policy caches the principal per request (per user object)."""
    return User.objects.get(pk=user.pk)


def sees(user, page) -> bool:
    user = fresh(user)
    by_filter = PortalItemPage.objects.filter(pk=page.pk).visible_to(user).exists()
    by_instance = page_policy.can_view(user, page)
    assert by_filter == by_instance, page_policy.explain(user, page).reasons
    return by_instance


def test_region_hierarchy(world):
    emea_item = make_item(key="emea", audience=Audience(regions=[world["regions"]["emea"]]))
    dach_item = make_item(key="dach", audience=Audience(regions=[world["regions"]["dach"]]))
    assert sees(world["users"]["acme"], emea_item)  # DACH sits under EMEA
    assert sees(world["users"]["acme"], dach_item)
    assert sees(world["users"]["emea-gold"], emea_item)
    assert not sees(world["users"]["emea-gold"], dach_item)  # EMEA itself is not in DACH
    assert not sees(world["users"]["plat"], emea_item)


def test_child_narrows_parent_with_region_hierarchy(world):
    parent = make_item(key="p", audience=Audience(regions=[world["regions"]["dach"]]))
    child = make_item(key="c", parent=parent, audience=Audience(regions=[world["regions"]["emea"]]))
    assert sees(world["users"]["acme"], child)
    assert not sees(world["users"]["emea-gold"], child)
    assert PageAudience.objects.get(page=child).eff_regions == f"|{world['regions']['dach'].pk}|"


def test_grant_beats_rule_but_not_a_closed_parent(world):
    gold = world["tiers"]["gold"]
    parent = make_item(key="p", audience=Audience(min_tier=gold))
    child = make_item(key="c", parent=parent)
    low = world["orgs"]["silver-dist"]
    audience_set_grants(page=child, organizations=[low])
    assert not sees(world["users"]["silver-dist"], child)  # the parent still closes it
    audience_set_grants(page=parent, organizations=[low])
    assert sees(world["users"]["silver-dist"], parent)
    assert sees(world["users"]["silver-dist"], child)
    reasons = page_policy.explain(fresh(world["users"]["silver-dist"]), child).reasons
    assert any("granted explicitly" in r for r in reasons)


def test_exception_beats_everything_and_closes_the_subtree(world):
    parent = make_item(key="p")
    child = make_item(key="c", parent=parent)
    acme = world["orgs"]["acme"]
    audience_set_grants(page=child, organizations=[acme])
    audience_set_exceptions(page=parent, organizations=[acme])
    assert not sees(world["users"]["acme"], parent)
    assert not sees(world["users"]["acme"], child)
    assert sees(world["users"]["emea-gold"], child)


def test_suspended_sees_nothing_not_even_public(world):
    public = make_item(key="pub", audience=Audience(public=True))
    library = library_for_locale("en")
    library.audience_public = True
    library.save()
    assert sees(world["users"]["acme"], public)
    organization_set_status(organization=world["orgs"]["acme"], status="suspended")
    assert not sees(world["users"]["acme"], public)
    assert PortalItemPage.objects.visible_to(fresh(world["users"]["acme"])).count() == 0


def test_anonymous_sees_only_public_chains(world):
    library = library_for_locale("en")
    library.audience_public = True
    library.save()
    public = make_item(key="pub", audience=Audience(public=True))
    under_public = make_item(key="c", parent=public, audience=Audience(public=True))
    private = make_item(key="priv")
    hidden_child = make_item(key="pc", parent=private, audience=Audience(public=True))
    anon = AnonymousUser()
    visible = set(PortalItemPage.objects.visible_to(anon).values_list("pk", flat=True))
    assert visible == {public.pk, under_public.pk}
    assert not page_policy.can_view(anon, hidden_child)


def test_staff_see_everything(world):
    item = make_item(key="x", audience=Audience(min_tier=world["tiers"]["plat"]))
    audience_set_exceptions(page=item, organizations=list(world["orgs"].values()))
    editor = User.objects.create_user(email="eva@vendor.example", password="x", is_staff=True)
    assert page_policy.can_view(editor, item)
    assert PortalItemPage.objects.visible_to(editor).filter(pk=item.pk).exists()


def test_draft_audience_does_not_leak_until_published(world):
    item = make_item(key="x", audience=Audience(min_tier=world["tiers"]["plat"]))
    assert not sees(world["users"]["acme"], item)
    draft = item.specific
    draft.audience_min_tier = None
    draft.save_revision()  # a draft opening the audience...
    assert not sees(world["users"]["acme"], item)  # ...changes nothing for partners
    draft.get_latest_revision().publish()
    assert sees(world["users"]["acme"], item)


def test_unpublished_items_are_hidden(world):
    item = make_item(key="x")
    assert sees(world["users"]["acme"], item)
    item.specific.unpublish()
    assert not sees(world["users"]["acme"], item)


def test_tier_rank_change_recompiles(world):
    gold, plat = world["tiers"]["gold"], world["tiers"]["plat"]
    item = make_item(key="x", audience=Audience(min_tier=gold))
    assert sees(world["users"]["acme"], item)
    gold.rank, plat.rank = 9, 3  # gold now ranks above everyone's tier but its own
    gold.save()
    assert sees(world["users"]["acme"], item)
    assert not sees(world["users"]["plat"], item)


def test_move_under_restricted_section_narrows(world):
    from kb.models import LibraryIndexPage

    library = library_for_locale("en")
    lounge = library.add_child(
        instance=LibraryIndexPage(
            title="Lounge", slug="lounge", audience_min_tier=world["tiers"]["plat"]
        )
    )
    item = make_item(key="x")
    assert sees(world["users"]["acme"], item)
    item.move(lounge, pos="last-child")
    item.refresh_from_db()
    assert not sees(world["users"]["acme"], item)
    assert sees(world["users"]["plat"], item)


DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_move_and_rank_change_apply_at_once_even_without_a_task_worker(world, settings):
    """A move or a rank change re-derives the compiled audiences in its own transaction: with
    no task ever running (dummy backend), listings already filter by the new audiences, so
    there is no window in which partners see what they may no longer see."""
    from kb.models import LibraryIndexPage

    library = library_for_locale("en")
    lounge = library.add_child(
        instance=LibraryIndexPage(
            title="Lounge", slug="lounge", audience_min_tier=world["tiers"]["plat"]
        )
    )
    item = make_item(key="x")
    gold_item = make_item(key="y", audience=Audience(min_tier=world["tiers"]["gold"]))
    settings.TASKS = DUMMY_TASKS
    acme = world["users"]["acme"]
    assert PortalItemPage.objects.visible_to(fresh(acme)).filter(pk=item.pk).exists()

    item.move(lounge, pos="last-child")
    item.refresh_from_db()
    assert PageAudience.objects.get(page=item).eff_min_rank == 3
    assert not PortalItemPage.objects.visible_to(fresh(acme)).filter(pk=item.pk).exists()
    assert not sees(acme, item)

    gold = world["tiers"]["gold"]
    gold.rank = 9  # gold now ranks above platinum
    gold.save()
    assert PageAudience.objects.get(page=gold_item).eff_min_rank == 9
    plat = world["users"]["plat"]
    assert not PortalItemPage.objects.visible_to(fresh(plat)).filter(pk=gold_item.pk).exists()
    assert not sees(plat, gold_item)


def test_filter_query_count_is_constant(world):
    for i in range(30):
        make_item(key=f"i{i}", audience=Audience(min_tier=world["tiers"]["gold"]))
    audience_set_grants(page=make_item(key="g"), organizations=[world["orgs"]["acme"]])
    user = fresh(world["users"]["acme"])
    with CaptureQueriesContext(connection) as ctx:
        visible = list(PortalItemPage.objects.live().visible_to(user))
    assert len(visible) == 31
    # membership (with the org's grant/exception kinds) + regions + the listing itself
    assert len(ctx.captured_queries) <= 5


def test_who_can_see_report(world):
    item = make_item(key="x", audience=Audience(min_tier=world["tiers"]["gold"]))
    audience_set_grants(page=item, organizations=[world["orgs"]["silver-dist"]])
    audience_set_exceptions(page=item, organizations=[world["orgs"]["emea-gold"]])
    report = audience_report(page=item)
    visible = {org.key: why for org, why in report.visible}
    hidden = {org.key: why for org, why in report.hidden}
    assert set(visible) == {"acme", "silver-dist", "plat"}
    assert set(hidden) == {"emea-gold"}
    assert "granted explicitly" in " ".join(visible["silver-dist"].reasons)
    assert "exception" in hidden["emea-gold"].summary
    assert [t.key for t in report.tiers] == ["gold", "plat"]


def test_deleting_a_region_in_use_is_refused(world):
    from django.db.models import ProtectedError

    apac = world["regions"]["apac"]
    make_item(key="x", audience=Audience(regions=[apac]))
    with pytest.raises(ProtectedError):
        apac.delete()


def test_admin_refuses_deleting_a_type_in_use(world, client):
    ptype = world["types"]["distributor"]
    item = make_item(key="x", audience=Audience(partner_types=[ptype]))
    client.force_login(User.objects.create_superuser(email="admin@vendor.example", password="x"))
    response = client.post(
        f"/admin/snippets/permissions/partnertype/delete/{ptype.pk}/", follow=True
    )
    assert "would open them to everyone" in response.content.decode()
    assert not sees(world["users"]["acme"], item)  # acme is a reseller: still excluded


@pytest.mark.parametrize("probe_depth", [3, 8])
def test_grant_branch_walks_chains_deeper_than_its_index_probe(world, monkeypatch, probe_depth):
    """The filter's grant branch finds chain nodes through the path index down to
    CHAIN_PROBE_DEPTH and with a second test below it; both must see every node (a missed
    node would leak). With a probe depth of 3, the items here (depth 4 to 9) take the deep test;
    with 8, the deepest ones do."""
    from permissions.policies import pages

    monkeypatch.setattr(pages, "CHAIN_PROBE_DEPTH", probe_depth)
    gold = world["tiers"]["gold"]
    low = world["orgs"]["silver-dist"]
    chain = [make_item(key="d0", audience=Audience(min_tier=gold))]
    for depth in range(1, 6):
        chain.append(make_item(key=f"d{depth}", parent=chain[-1]))
    audience_set_grants(page=chain[0], organizations=[low])
    assert chain[-1].depth == 9
    assert all(sees(world["users"]["silver-dist"], item) for item in chain)
    # A node deep in the chain that the organisation fails, without a grant there, closes
    # everything below it, and only that.
    closed = make_item(key="d3", parent=chain[2], audience=Audience(min_tier=gold))
    assert closed.pk == chain[3].pk
    seen = [sees(world["users"]["silver-dist"], item) for item in chain]
    assert seen == [True, True, True, False, False, False]
    audience_set_grants(page=chain[3], organizations=[low])
    assert all(sees(world["users"]["silver-dist"], item) for item in chain)
    # Other organisations keep the plain rule: the gold one sees all, the platinum one too.
    assert all(sees(world["users"]["acme"], item) for item in chain)


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.parametrize("status", ["active", "suspended"])
@pytest.mark.parametrize("user_active", [True, False])
def test_the_organisation_link_agrees_with_the_organisation_page(portal, role, status, user_active):
    """The header asks ``manages_an_organization`` (from the principal, no query); the
    organisation page asks ``managed_organization``: they must always agree."""
    from permissions.models import Membership, PartnerOrganization
    from permissions.policies.organizations import organization_policy

    member = MembershipFactory(
        role=Membership.Role(role),
        organization__status=PartnerOrganization.Status(status),
        user__is_active=user_active,
    )
    user = User.objects.get(pk=member.user_id)
    expected = organization_policy.managed_organization(user) is not None
    assert expected == (role == "admin" and status == "active" and user_active)
    fresh = User.objects.get(pk=member.user_id)
    principal_for(fresh)
    with CaptureQueriesContext(connection) as queries:
        assert organization_policy.manages_an_organization(fresh) is expected
    assert len(queries) == 0
    for who in (AnonymousUser(), UserFactory(is_staff=True)):
        assert organization_policy.manages_an_organization(who) is False
