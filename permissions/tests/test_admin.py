"""The Wagtail admin: partner screens, the audience panel and the "Who can see this" panel."""

from __future__ import annotations

import pytest
from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import nested_form_data, rich_text

from accounts.models import User
from kb.models import LibraryIndexPage
from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from permissions.models import GRANT_CODENAME, PageGroupObjectPermission, PartnerOrganization
from permissions.tests.factories import OrganizationFactory, TierFactory


@pytest.fixture
def editor_client(client, portal):
    editor = User.objects.create_superuser(email="eva@vendor.example", password="x")
    client.force_login(editor)
    return client


@pytest.mark.parametrize(
    "model", ["partnerorganization", "tier", "region", "partnertype", "membership"]
)
def test_partner_screens_list_search_and_filter(editor_client, model):
    OrganizationFactory(name="Acme GmbH")
    base = f"/admin/snippets/permissions/{model}/"
    assert editor_client.get(base).status_code == 200
    assert editor_client.get(base, {"q": "acme"}).status_code == 200


def test_organisation_created_in_admin_gets_its_principal(editor_client):
    tier = TierFactory(key="gold", rank=2)
    org = OrganizationFactory.build(tier=tier)
    for related in (org.region, org.partner_type):
        related.save()
    response = editor_client.post(
        "/admin/snippets/permissions/partnerorganization/add/",
        {
            "key": "newco",
            "name": "NewCo",
            "tier": tier.pk,
            "region": org.region.pk,
            "partner_type": org.partner_type.pk,
            "country": "FR",
            "status": "active",
            "primary_color": "#112233",
            "secondary_color": "#ffffff",
            "contact_block": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    created = PartnerOrganization.objects.get(key="newco")
    assert created.group_id is not None
    assert created.group.name == "partner-org:newco"
    assert ModelLogEntry.objects.filter(object_id=str(created.pk), action="wagtail.create").exists()


def test_organisation_edited_in_admin_goes_through_the_service(editor_client, monkeypatch):
    from permissions import services

    org = OrganizationFactory(name="Acme", country="DE")
    group_id = org.group_id
    calls = []
    original = services.organization_update

    def spy(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr("permissions.wagtail_hooks.organization_update", spy)
    response = editor_client.post(
        f"/admin/snippets/permissions/partnerorganization/edit/{org.pk}/",
        {
            "key": org.key,
            "name": "Acme Renamed",
            "tier": org.tier_id,
            "region": org.region_id,
            "partner_type": org.partner_type_id,
            "country": "DE",
            "status": "suspended",
            "primary_color": "#112233",
            "secondary_color": "#ffffff",
            "contact_block": "Call us",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    org.refresh_from_db()
    assert (org.name, org.status, org.contact_block) == ("Acme Renamed", "suspended", "Call us")
    assert org.group_id == group_id
    assert [c["organization"].pk for c in calls] == [org.pk]
    assert ModelLogEntry.objects.filter(object_id=str(org.pk), action="wagtail.edit").exists()


def test_item_editor_shows_audience_and_who_can_see(editor_client):
    gold = TierFactory(key="gold", rank=2)
    OrganizationFactory(name="Gold Org", tier=gold)
    OrganizationFactory(name="Silver Org", tier=TierFactory(key="silver", rank=1))
    item = make_item(key="x", audience=Audience(min_tier=gold))
    html = editor_client.get(f"/admin/pages/{item.pk}/edit/").content.decode()
    assert "Who can see this" in html
    assert "1 organisation can see this" in html
    assert "1 organisation is excluded" in html
    assert "Granted organisations" in html


def test_grants_saved_from_the_page_editor(editor_client):
    gold = TierFactory(key="gold", rank=2)
    silver_org = OrganizationFactory(name="Silver Org", tier=TierFactory(key="silver", rank=1))
    library = library_for_locale("en")
    section = library.add_child(instance=LibraryIndexPage(title="Gold", slug="gold"))
    data = nested_form_data(
        {
            "title": "Gold section",
            "slug": "gold",
            "intro": rich_text(""),
            "audience_min_tier": gold.pk,
            "action-publish": "publish",
        }
    )
    data["audience_grants"] = [silver_org.pk]
    response = editor_client.post(f"/admin/pages/{section.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert PageGroupObjectPermission.objects.filter(
        content_object_id=section.pk, group=silver_org.group, permission__codename=GRANT_CODENAME
    ).exists()
    section.refresh_from_db()
    assert section.audience.eff_min_rank == 2


def test_granted_and_excluded_at_once_is_refused(editor_client):
    org = OrganizationFactory()
    library = library_for_locale("en")
    section = library.add_child(instance=LibraryIndexPage(title="S", slug="s"))
    data = nested_form_data(
        {
            "title": "S",
            "slug": "s",
            "intro": rich_text(""),
        }
    )
    data["audience_grants"] = [org.pk]
    data["audience_exceptions"] = [org.pk]
    response = editor_client.post(f"/admin/pages/{section.pk}/edit/", data)
    assert response.status_code == 200
    assert "cannot be granted and excluded at once" in response.content.decode()
    assert not PageGroupObjectPermission.objects.filter(content_object_id=section.pk).exists()


def test_admin_edit_of_the_brand_kit_bumps_the_version_and_is_audited(editor_client):
    from permissions.models import OrganizationChange

    org = OrganizationFactory(name="Acme", country="DE")
    response = editor_client.post(
        f"/admin/snippets/permissions/partnerorganization/edit/{org.pk}/",
        {
            "key": org.key,
            "name": "Acme",
            "tier": org.tier_id,
            "region": org.region_id,
            "partner_type": org.partner_type_id,
            "country": "DE",
            "status": "active",
            "primary_color": "#112233",
            "secondary_color": "#ffffff",
            "contact_phone": "+49 30 1",
            "contact_block": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    org.refresh_from_db()
    assert (org.brand_kit_version, org.contact_phone) == (2, "+49 30 1")
    change = OrganizationChange.objects.get(organization=org)
    assert change.actor_email == "eva@vendor.example"
    assert change.after == {"primary_color": "#112233", "contact_phone": "+49 30 1"}
    # The trail is listed (read-only) in the admin.
    listing = editor_client.get("/admin/snippets/permissions/organizationchange/")
    assert listing.status_code == 200 and "eva@vendor.example" in listing.content.decode()
    inspect = editor_client.get(
        f"/admin/snippets/permissions/organizationchange/inspect/{change.pk}/"
    )
    assert inspect.status_code == 200 and "+49 30 1" in inspect.content.decode()
    add = editor_client.get("/admin/snippets/permissions/organizationchange/add/")
    assert add.status_code in (302, 403)
