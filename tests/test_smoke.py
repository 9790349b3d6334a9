from kb.services import Audience
from kb.tests.factories import make_item
from permissions.policies.pages import page_policy
from permissions.services import audience_set_grants
from permissions.tests.factories import MembershipFactory, OrganizationFactory, TierFactory


def test_structure_and_visibility(portal):
    gold = TierFactory(key="gold", rank=2)
    silver = TierFactory(key="silver", rank=1)
    gold_member = MembershipFactory(organization=OrganizationFactory(tier=gold)).user
    silver_org = OrganizationFactory(tier=silver)
    silver_member = MembershipFactory(organization=silver_org).user
    item = make_item(key="x1", audience=Audience(min_tier=gold))
    assert page_policy.can_view(gold_member, item)
    assert not page_policy.can_view(silver_member, item)
    audience_set_grants(page=item, organizations=[silver_org])
    silver_member = type(silver_member).objects.get(pk=silver_member.pk)
    assert page_policy.can_view(silver_member, item)
