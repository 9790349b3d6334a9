"""factory_boy factories for the entitlement model: tiers, regions, types, organisations."""

from __future__ import annotations

import factory

from accounts.tests.factories import UserFactory
from permissions.models import Membership, PartnerOrganization, PartnerType, Region, Tier
from permissions.services import organization_group


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"tier-{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())
    rank = factory.Sequence(lambda n: n + 100)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"region-{n}")
    name = factory.LazyAttribute(lambda o: o.key.upper())


class PartnerTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerType
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"type-{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganization

    key = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: f"Org {o.key}")
    tier = factory.SubFactory(TierFactory)
    region = factory.SubFactory(RegionFactory)
    partner_type = factory.SubFactory(PartnerTypeFactory)
    country = "DE"
    status = PartnerOrganization.Status.ACTIVE
    group = factory.LazyAttribute(lambda o: organization_group(key=o.key))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER
