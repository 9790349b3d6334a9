"""factory_boy factories for partners, users and items (items go through kb.services)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from kb.services import Audience, item_upsert, library_for_locale
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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


def make_item(
    *,
    key: str,
    kind: str = "product_sheet",
    title: str | None = None,
    parent=None,
    audience: Audience | None = None,
    **kwargs,
):
    """Create and publish an item through the same service the admin and imports use."""
    return item_upsert(
        key=key,
        kind=kind,
        title=title or key.replace("-", " ").title(),
        parent=parent or library_for_locale("en"),
        audience=audience,
        **kwargs,
    )


def make_pdf_bytes(text: str = "test") -> bytes:
    """A small, real one-page PDF (uploads are parsed by kb.validation, so fakes are refused)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
