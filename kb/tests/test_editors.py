"""The page editor (issue #14, "Editors"): opening a page saves nothing, an abandoned create form
leaves no page, and "Preview as" a partner organisation or user, also before saving."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import Page
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from accounts.models import User
from kb.models import LibraryIndexPage, ProductSheetPage
from kb.preview import PREVIEW_AS_MODE, SESSION_KEY
from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from permissions.tests.factories import MembershipFactory, OrganizationFactory, TierFactory


@pytest.fixture
def editor(portal):
    return User.objects.create_superuser(email="eva@vendor.example", password="x")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def tiers(db):
    return {"silver": TierFactory(key="silver", rank=1), "gold": TierFactory(key="gold", rank=2)}


@pytest.fixture
def orgs(tiers):
    return {
        "gold": OrganizationFactory(name="Goldhaus GmbH", tier=tiers["gold"]),
        "silver": OrganizationFactory(name="Acme GmbH", tier=tiers["silver"]),
    }


def _sheet_form(page, **fields) -> dict:
    """The page editor's form of a product sheet as posted, with ``fields`` changed."""
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "summary": page.summary,
            "body": rich_text(page.body),
            "version_label": "",
            "change_note": rich_text(""),
            "changelog": rich_text(""),
            "specifications": streamfield([]),
            "attachments": inline_formset([]),
            "tags": "",
            **fields,
        }
    )
    for name in ("audience_regions", "audience_partner_types", "audience_grants"):
        data.setdefault(name, [])
    return data


def _preview_as(client, page, data, principal: str | None) -> str:
    """Post the editor's form to Wagtail's preview, choose ``principal`` and render the preview
    in the "as the partner" mode."""
    if principal is not None:
        chosen = client.post(reverse("kb_preview_as"), {"principal": principal})
        assert chosen.status_code == 200, chosen.content
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    posted = client.post(url, data)
    assert posted.json()["is_valid"], posted.content
    response = client.get(url, {"mode": PREVIEW_AS_MODE})
    return response.content.decode()


# --- opening a page, abandoned create forms --------------------------------------------------


def test_opening_a_page_in_the_editor_creates_no_revision(editor_client, tiers):
    item = make_item(key="x1", body="<p>Seeded body</p>", audience=Audience(min_tier=tiers["gold"]))
    before = item.revisions.count()
    response = editor_client.get(f"/admin/pages/{item.pk}/edit/")
    assert response.status_code == 200
    assert item.revisions.count() == before
    # The editor's guard (autosave only after a real edit) is on the page.
    assert "kb/admin/editor-autosave.js" in response.content.decode()


def test_an_autosave_of_a_create_form_is_refused_and_a_later_create_works(editor_client, portal):
    library = library_for_locale("en")
    url = reverse("wagtailadmin_pages:add", args=["kb", "libraryindexpage", library.pk])
    data = nested_form_data({"title": "Gold corner", "slug": "gold-corner", "intro": rich_text("")})
    data.update(audience_regions=[], audience_partner_types=[], audience_grants=[])
    # What the browser's autosave sends (JSON expected), e.g. from a tab left open.
    autosaved = editor_client.post(url, data, HTTP_ACCEPT="application/json")
    assert autosaved.status_code == 400
    assert autosaved.json()["error_code"] == "autosave_disabled"
    assert not Page.objects.filter(slug="gold-corner").exists()
    # The editor comes back later and saves a page with that slug: no clash.
    saved = editor_client.post(url, {**data, "action-save": "save"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert LibraryIndexPage.objects.filter(slug="gold-corner").count() == 1


def test_a_create_form_loads_the_script_that_turns_its_autosave_off(editor_client, portal):
    library = library_for_locale("en")
    url = reverse("wagtailadmin_pages:add", args=["kb", "libraryindexpage", library.pk])
    assert "kb/admin/editor-autosave.js" in editor_client.get(url).content.decode()


# --- "Preview as" ------------------------------------------------------------------------------


def test_preview_as_an_organisation_that_may_see_the_page(editor_client, tiers, orgs):
    item = make_item(
        key="x1", body="<p>Router facts</p>", audience=Audience(min_tier=tiers["gold"])
    )
    html = _preview_as(
        editor_client,
        item,
        _sheet_form(item, audience_min_tier=tiers["gold"].pk),
        f"org:{orgs['gold'].pk}",
    )
    assert 'data-preview-as="visible"' in html
    assert "Preview as Goldhaus GmbH" in html
    assert "Router facts" in html


def test_preview_as_an_excluded_organisation_says_why(editor_client, tiers, orgs):
    item = make_item(
        key="x1", body="<p>Router facts</p>", audience=Audience(min_tier=tiers["gold"])
    )
    html = _preview_as(
        editor_client,
        item,
        _sheet_form(item, audience_min_tier=tiers["gold"].pk),
        f"org:{orgs['silver'].pk}",
    )
    assert 'data-preview-as="hidden"' in html
    assert "Acme GmbH would not see this page" in html
    assert "tier Silver &lt; Gold" in html or "tier Silver < Gold" in html
    assert "Router facts" not in html


def test_preview_as_follows_an_unsaved_audience_change(editor_client, tiers, orgs):
    item = make_item(
        key="x1", body="<p>Router facts</p>", audience=Audience(min_tier=tiers["gold"])
    )
    revisions = item.revisions.count()
    # Lowered to Silver in the form, not saved: Acme would see it.
    data = _sheet_form(item, audience_min_tier=tiers["silver"].pk)
    html = _preview_as(editor_client, item, data, f"org:{orgs['silver'].pk}")
    assert 'data-preview-as="visible"' in html and "Router facts" in html
    # An exception set in the form (unsaved) hides it from Goldhaus.
    data = _sheet_form(item, audience_min_tier=tiers["gold"].pk)
    data["audience_exceptions"] = [orgs["gold"].pk]
    html = _preview_as(editor_client, item, data, f"org:{orgs['gold'].pk}")
    assert "Goldhaus GmbH would not see this page" in html
    assert "explicit exception" in html
    # Nothing was saved by previewing.
    assert item.revisions.count() == revisions
    assert ProductSheetPage.objects.get(pk=item.pk).audience_exceptions.count() == 0


def test_preview_as_a_partner_user_and_before_the_page_exists(editor_client, tiers, orgs, portal):
    member = MembershipFactory(organization=orgs["silver"]).user
    library = library_for_locale("en")
    editor_client.post(reverse("kb_preview_as"), {"principal": f"user:{member.pk}"})
    url = reverse("wagtailadmin_pages:preview_on_add", args=["kb", "libraryindexpage", library.pk])
    data = nested_form_data({"title": "Gold corner", "slug": "gold-corner", "intro": rich_text("")})
    data.update(
        audience_min_tier=tiers["gold"].pk,
        audience_regions=[],
        audience_partner_types=[],
        audience_grants=[],
    )
    assert editor_client.post(url, data).json()["is_valid"]
    html = editor_client.get(url, {"mode": PREVIEW_AS_MODE}).content.decode()
    assert f"{member.email} (Acme GmbH) would not see this page" in html
    data["audience_min_tier"] = tiers["silver"].pk
    editor_client.post(url, data)
    html = editor_client.get(url, {"mode": PREVIEW_AS_MODE}).content.decode()
    assert 'data-preview-as="visible"' in html
    assert not Page.objects.filter(slug="gold-corner").exists()


def test_the_editor_offers_preview_as_with_the_organisations(editor_client, tiers, orgs):
    item = make_item(key="x1", audience=Audience(min_tier=tiers["gold"]))
    html = editor_client.get(f"/admin/pages/{item.pk}/edit/").content.decode()
    assert 'id="kb-preview-as-select"' in html
    assert '<label class="w-field__label" for="kb-preview-as-select">' in html
    assert "Goldhaus GmbH" in html and "Acme GmbH" in html
    assert "As the partner chosen in" in html  # the preview mode


def test_preview_as_needs_the_access_permission(client, tiers, orgs, portal):
    """A staff user who may edit pages but not change who can see them (a marketer) does not
    get the chooser, and cannot choose or render a preview as a partner."""
    item = make_item(key="x1", audience=Audience(min_tier=tiers["gold"]))
    marketer = User.objects.create_user(email="jiri@vendor.example", password="x", is_staff=True)
    group = Group.objects.create(name="Page editors without access")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    from wagtail.models import GroupPagePermission

    GroupPagePermission.objects.create(
        group=group, page=Page.objects.get(depth=1), permission_type="change"
    )
    marketer.groups.add(group)
    client.force_login(marketer)
    html = client.get(f"/admin/pages/{item.pk}/edit/").content.decode()
    # (The audience fields list the organisations read-only, as before: permissions.panels.)
    assert "kb-preview-as-select" not in html
    assert "data-kb-preview-as" not in html
    refused = client.post(reverse("kb_preview_as"), {"principal": f"org:{orgs['gold'].pk}"})
    assert refused.status_code == 403
    session = client.session
    session[SESSION_KEY] = f"org:{orgs['gold'].pk}"
    session.save()
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[item.pk])
    client.post(url, _sheet_form(item, audience_min_tier=tiers["gold"].pk))
    response = client.get(url, {"mode": PREVIEW_AS_MODE})
    assert response.status_code == 403
    assert "Goldhaus" not in response.content.decode()


def test_preview_as_refuses_an_unknown_choice(editor_client, orgs):
    response = editor_client.post(reverse("kb_preview_as"), {"principal": "org:999999"})
    assert response.status_code == 400
    assert SESSION_KEY not in editor_client.session
