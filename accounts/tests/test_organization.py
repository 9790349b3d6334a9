"""The partner admin's organisation page: brand kit, members, invitations, audit (HTTP)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from PIL import Image

from accounts.models import Invitation, User
from accounts.services import invitation_token_hash
from accounts.tests.factories import UserFactory
from permissions.models import Membership, OrganizationChange, PartnerOrganization
from permissions.services import MemberRuleError, member_role_change, member_set_active
from permissions.tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

PAGE = "/portal/account/organization/"
INVITE = "/portal/account/organization/invite/"


def png(size=(120, 60), color=(200, 16, 46)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def admin_of(org, **kwargs) -> User:
    return MembershipFactory.create(organization=org, role=Membership.Role.ADMIN, **kwargs).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kit_data(org, **changes) -> dict:
    data = {
        "name": org.name,
        "primary_color": org.primary_color,
        "primary_color_text": org.primary_color,
        "secondary_color": org.secondary_color,
        "secondary_color_text": org.secondary_color,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "contact_email": org.contact_email,
        "contact_web": org.contact_web,
        "contact_block": org.contact_block,
    }
    data.update(changes)
    return data


@pytest.fixture
def media(settings, tmp_path, local_storage):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def org(portal):
    return OrganizationFactory.create(name="Acme GmbH", primary_color="#c8102e")


@pytest.fixture
def admin(org):
    return admin_of(org)


def test_admin_edits_the_brand_kit_version_bumps_and_the_change_is_audited(org, admin, media):
    client = client_for(admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'type="color"' in html
    # Every control has its label.
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html):
        assert f'for="{field_id}"' in html, field_id
    assert f'href="{PAGE}"' in html  # the navigation links the page for partner admins
    data = kit_data(org, contact_name="Markus Weber", primary_color_text="#112233")
    data["logo"] = io.BytesIO(png())
    data["logo"].name = "acme.png"
    response = client.post(PAGE, data)
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.brand_kit_version, org.contact_name, org.primary_color) == (
        2,
        "Markus Weber",
        "#112233",
    )
    assert org.logo.name.endswith(".png") and stored_files(media)
    changes = {c.action: c for c in OrganizationChange.objects.filter(organization=org)}
    kit = changes[OrganizationChange.Action.BRAND_KIT]
    assert kit.actor == admin and kit.actor_email == admin.email
    assert kit.before == {"primary_color": "#c8102e", "contact_name": ""}
    assert kit.after == {"primary_color": "#112233", "contact_name": "Markus Weber"}
    assert changes[OrganizationChange.Action.LOGO].after == {"logo": "acme.png"}
    # The trail is on the page; an unchanged save bumps nothing.
    assert "Markus Weber" in client.get(PAGE).content.decode()
    client.post(PAGE, kit_data(org))
    org.refresh_from_db()
    assert org.brand_kit_version == 2


def test_the_version_bumps_on_every_save_path(org, media):
    from permissions.services import organization_set_logo, organization_update, organization_upsert

    organization_update(organization=org, contact_web="www.acme.example")
    assert PartnerOrganization.objects.get(pk=org.pk).brand_kit_version == 2
    organization_update(organization=org, country="AT")  # not part of the kit
    assert PartnerOrganization.objects.get(pk=org.pk).brand_kit_version == 2
    organization_upsert(
        key=org.key,
        name=org.name,
        tier=org.tier,
        region=org.region,
        partner_type=org.partner_type,
        country="AT",
        contact_phone="+43 1",
    )
    assert PartnerOrganization.objects.get(pk=org.pk).brand_kit_version == 3
    organization_set_logo(organization=org, name="l.png", content=png())
    assert PartnerOrganization.objects.get(pk=org.pk).brand_kit_version == 4
    # A stale instance does not roll the counter back.
    stale = PartnerOrganization.objects.get(pk=org.pk)
    stale.brand_kit_version = 1
    organization_update(organization=stale, name="Acme AG")
    assert PartnerOrganization.objects.get(pk=org.pk).brand_kit_version == 5


def test_member_staff_anonymous_and_suspended_get_no_page(org, admin, django_user_model):
    member = MembershipFactory.create(organization=org).user
    assert client_for(member).get(PAGE).status_code == 404
    assert client_for(member).post(PAGE, kit_data(org, name="Hacked")).status_code == 404
    staff = django_user_model.objects.create_superuser(email="boss@vendor.example", password="x")
    assert client_for(staff).get(PAGE).status_code == 404
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    org.status = PartnerOrganization.Status.SUSPENDED
    org.save()
    assert client_for(admin).get(PAGE).status_code == 404
    assert PartnerOrganization.objects.get(pk=org.pk).name == "Acme GmbH"
    assert (
        f'href="{PAGE}"' not in client_for(member).get("/portal/account/profile/").content.decode()
    )


def test_an_admin_cannot_touch_another_organisation(org, admin):
    other = OrganizationFactory.create()
    their_admin = admin_of(other)
    their_member = MembershipFactory.create(organization=other)
    client = client_for(admin)
    for url, data in (
        (f"/portal/account/organization/members/{their_member.pk}/role/", {"role": "admin"}),
        (f"/portal/account/organization/members/{their_member.pk}/active/", {"active": "0"}),
    ):
        assert client.post(url, data).status_code == 404
    invitation = Invitation.objects.create(organization=other, email="x@y.example")
    url = f"/portal/account/organization/invitations/{invitation.pk}/revoke/"
    assert client.post(url).status_code == 404
    their_member.refresh_from_db()
    invitation.refresh_from_db()
    assert their_member.role == "member" and their_member.user.is_active
    assert invitation.revoked_at is None
    assert their_admin.email not in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "SVG logos are not accepted",
        ),
        (
            "logo.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "SVG logos are not accepted",
        ),
        ("logo.png", b"%PDF-1.4 not an image at all", "not what a .png file must be"),
        ("logo.png", "bomb", "more than the 16,000,000 allowed"),
    ],
)
def test_refused_logos_change_nothing_and_store_nothing(org, admin, media, name, content, message):
    if content == "bomb":
        # 60 megapixels, a few kB compressed.
        out = io.BytesIO()
        Image.new("1", (10_000, 6_000)).save(out, "PNG")
        content = out.getvalue()
    before = stored_files(media)
    upload = io.BytesIO(content)
    upload.name = name
    response = client_for(admin).post(PAGE, {**kit_data(org, name="Changed"), "logo": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-describedby="id_logo_helptext id_logo-error"' in html
    assert 'id="id_logo-error"' in html
    org.refresh_from_db()
    assert (org.name, org.brand_kit_version, org.logo.name) == ("Acme GmbH", 1, "")
    assert stored_files(media) == before
    assert not OrganizationChange.objects.filter(organization=org).exists()


def test_invitation_is_mailed_accepted_and_the_new_user_logs_in(org, admin, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://portal.example"
    client = client_for(admin)
    response = client.post(INVITE, {"email": "New.Person@Acme.example", "role": "member"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=org)
    assert invitation.email == "new.person@acme.example" and invitation.invited_by == admin
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@acme.example"]
    link = re.search(
        r"https://portal\.example(/portal/account/invitation/[^/\s]+/)", mail.outbox[0].body
    )
    assert link
    path = link.group(1)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert invitation.__class__.objects.get(pk=invitation.pk).token_hash == invitation_token_hash(
        token
    )
    assert token not in str(Invitation.objects.values_list().get(pk=invitation.pk))
    assert "new.person@acme.example" in client.get(PAGE).content.decode()

    visitor = Client()
    assert visitor.get(path).status_code == 200
    weak = visitor.post(
        path, {"first_name": "N", "last_name": "P", "password1": "123", "password2": "123"}
    )
    assert weak.status_code == 400 and 'id="id_password1-error"' in weak.content.decode()
    assert not User.objects.filter(email="new.person@acme.example").exists()
    good = {
        "first_name": "Nora",
        "last_name": "Perez",
        "password1": "a-long-pass-phrase-9",
        "password2": "a-long-pass-phrase-9",
    }
    assert visitor.post(path, good).status_code == 302
    user = User.objects.get(email="new.person@acme.example")
    assert user.membership.organization == org and user.membership.role == "member"
    assert visitor.login(username="new.person@acme.example", password="a-long-pass-phrase-9")
    actions = set(
        OrganizationChange.objects.filter(organization=org).values_list("action", flat=True)
    )
    assert {"invite", "accept"} <= actions
    # The link worked once.
    again = Client().get(path)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_expired_revoked_and_existing_account_links_are_refused(org, admin):
    def invite(email):
        client_for(admin).post(INVITE, {"email": email, "role": "member"})
        link = re.search(r"(/portal/account/invitation/[^/\s]+/)", mail.outbox[-1].body)
        return Invitation.objects.get(email=email), link.group(1)

    expired, path = invite("late@acme.example")
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client().post(
        path,
        {
            "first_name": "L",
            "last_name": "L",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not User.objects.filter(email="late@acme.example").exists()

    revoked, path = invite("gone@acme.example")
    url = f"/portal/account/organization/invitations/{revoked.pk}/revoke/"
    assert client_for(admin).post(url).status_code == 302
    assert "withdrawn" in Client().get(path).content.decode()

    UserFactory.create(email="taken@else.example")
    taken, path = invite("taken@else.example")  # the admin is not told the address exists
    assert "already has a portal account" in Client().get(path).content.decode()
    assert Client().get("/portal/account/invitation/nonsense/").status_code == 410

    member = MembershipFactory.create(organization=org).user
    response = client_for(admin).post(INVITE, {"email": member.email, "role": "member"})
    assert response.status_code == 400 and "already a member" in response.content.decode()


def test_last_admin_rules_and_deactivation_ends_the_session(org, admin):
    own = Membership.objects.get(user=admin)
    client = client_for(admin)
    response = client.post(
        f"/portal/account/organization/members/{own.pk}/role/", {"role": "member"}, follow=True
    )
    assert "last admin" in response.content.decode()
    assert Membership.objects.get(pk=own.pk).role == "admin"
    response = client.post(
        f"/portal/account/organization/members/{own.pk}/active/", {"active": "0"}, follow=True
    )
    assert "cannot deactivate your own account" in response.content.decode()

    member = MembershipFactory.create(organization=org)
    member_client = client_for(member.user)
    assert member_client.get("/portal/account/profile/").status_code == 200
    assert (
        client.post(
            f"/portal/account/organization/members/{member.pk}/active/", {"active": "0"}
        ).status_code
        == 302
    )
    member.user.refresh_from_db()
    assert not member.user.is_active
    gone = member_client.get("/portal/account/profile/")
    assert gone.status_code == 302 and gone["Location"].startswith("/login/")
    assert (
        client.post(
            f"/portal/account/organization/members/{member.pk}/active/", {"active": "1"}
        ).status_code
        == 302
    )
    member.user.refresh_from_db()
    assert member.user.is_active
    client.post(f"/portal/account/organization/members/{member.pk}/role/", {"role": "admin"})
    assert Membership.objects.get(pk=member.pk).role == "admin"
    # Now there are two admins: the first may step down.
    client.post(f"/portal/account/organization/members/{own.pk}/role/", {"role": "member"})
    assert Membership.objects.get(pk=own.pk).role == "member"
    assert client.get(PAGE).status_code == 404
    actions = list(
        OrganizationChange.objects.filter(organization=org).values_list("action", flat=True)
    )
    assert actions.count("role") == 2 and "deactivate" in actions and "reactivate" in actions


class TestLastAdminInvariant(HypothesisTestCase):
    """Whatever admins do to each other, the organisation keeps an active admin."""

    # Each example builds an organisation with four users: 50 examples cover the rule's few
    # states (who is admin, who is active) well, and keep the CI profile's 1,000 out of it.
    @hypothesis_settings(max_examples=50)
    @given(
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(0, 3),
                st.sampled_from(["admin", "member", "deactivate", "reactivate"]),
            ),
            max_size=25,
        )
    )
    def test_an_active_admin_always_remains(self, steps):
        org = OrganizationFactory.create()
        people = [
            MembershipFactory.create(organization=org, role="admin" if n == 0 else "member")
            for n in range(4)
        ]
        for actor_n, target_n, op in steps:
            actor, target = people[actor_n], people[target_n]
            try:
                if op in ("admin", "member"):
                    member_role_change(membership=target, role=op, actor=actor.user)
                else:
                    member_set_active(
                        membership=target, active=op == "reactivate", actor=actor.user
                    )
            except MemberRuleError:
                pass
            admins = Membership.objects.filter(organization=org, role="admin", user__is_active=True)
            assert admins.exists()


def test_invitations_per_day_are_capped(org, admin, settings):
    settings.PORTAL_INVITATIONS_PER_DAY = 2
    client = client_for(admin)
    for n in range(2):
        assert (
            client.post(INVITE, {"email": f"p{n}@acme.example", "role": "member"}).status_code
            == 302
        )
    refused = client.post(INVITE, {"email": "p9@acme.example", "role": "member"})
    assert refused.status_code == 400 and "try again tomorrow" in refused.content.decode()
    assert len(mail.outbox) == 2 and not Invitation.objects.filter(email="p9@acme.example")
