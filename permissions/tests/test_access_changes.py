"""Access in the revision: the apply service, its audit, the roles, the workflow and migrations.

The journeys over HTTP are in tests/test_access_review.py; these pin the pieces underneath.
"""

from __future__ import annotations

import copy
import importlib
import io
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from guardian.shortcuts import assign_perm
from wagtail.models import GroupPagePermission, Page, PageLogEntry, Workflow
from wagtail.test.utils.form_data import nested_form_data, rich_text

from accounts.models import User
from kb.models import ItemKey, LibraryIndexPage, PortalHomePage
from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from localization.services import marketer_set
from permissions.models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    AccessChange,
    PageGroupObjectPermission,
)
from permissions.services import APPROVAL_WORKFLOW, audience_set_grants, user_upsert
from permissions.tests.factories import OrganizationFactory, TierFactory

pytestmark = pytest.mark.django_db


def held(page, codename: str) -> set[int]:
    return set(
        PageGroupObjectPermission.objects.filter(
            content_object_id=page.pk, permission__codename=codename
        ).values_list("group_id", flat=True)
    )


def test_draft_revision_changes_nothing_and_publish_applies_and_audits(portal):
    gold = TierFactory(key="gold", rank=2)
    org = OrganizationFactory(name="Brightline", tier=TierFactory(key="silver", rank=1))
    item = make_item(key="x", audience=Audience(min_tier=gold))
    mark = AccessChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    draft = item.get_latest_revision_as_object()
    draft.audience_grants = [org]
    draft.audience_min_tier = None
    revision = draft.save_revision()
    assert held(item, GRANT_CODENAME) == set()
    assert item.audience.own_min_rank == 2
    assert not AccessChange.objects.filter(pk__gt=mark).exists()

    revision.publish()
    item.refresh_from_db()
    assert held(item, GRANT_CODENAME) == {org.group_id}
    assert item.audience.own_min_rank is None
    rows = {
        (c.field, c.organization_name, json.dumps(c.before), json.dumps(c.after), c.source)
        for c in AccessChange.objects.filter(pk__gt=mark)
    }
    assert rows == {
        ("grant", "Brightline", "false", "true", "system"),
        ("min_tier", "", '"Gold"', "null", "system"),
    }
    entry = PageLogEntry.objects.filter(page=item, action="permissions.access_change").latest("pk")
    assert entry.revision_id == revision.pk
    assert "granted: + Brightline" in entry.message and "minimum tier: Gold → any" in entry.message

    # Publishing the same access again writes nothing.
    item.get_latest_revision_as_object().save_revision().publish()
    assert AccessChange.objects.filter(pk__gt=mark).count() == 2


def test_direct_service_write_keeps_field_and_guardian_in_step(portal):
    org = OrganizationFactory()
    item = make_item(key="y")
    audience_set_grants(page=item, organizations=[org])
    fresh = item.specific_class.objects.get(pk=item.pk)
    assert [o.pk for o in fresh.audience_grants.all()] == [org.pk]
    assert held(item, GRANT_CODENAME) == {org.group_id}
    assert fresh.audience.own_grants == f"|{org.group_id}|"
    audience_set_grants(page=item, organizations=[])
    assert held(item, GRANT_CODENAME) == set()
    assert list(item.specific_class.objects.get(pk=item.pk).audience_grants.all()) == []


def test_import_publishes_access_and_audits_it_as_import(portal, tmp_path):
    from imports.tests.test_bundles import example, run

    bundle = example()
    run(tmp_path, bundle)
    granted = [i for i in bundle["items"] if i.get("grants")]
    assert granted, "the example bundle has a grant"
    page = ItemKey.objects.get(key=granted[0]["key"]).page.specific
    keys = {o.key for o in page.audience_grants.all()}
    assert keys == set(granted[0]["grants"])
    assert page.get_latest_revision().content["audience_grants"] == sorted(
        o.pk for o in page.audience_grants.all()
    )
    rows = AccessChange.objects.filter(page_id=page.pk, field="grant")
    assert rows.exists() and {r.source for r in rows} == {"import"}
    assert all(r.applied_by is None for r in rows)

    # Re-importing the same bundle changes nothing; removing the grant is applied and audited.
    count = AccessChange.objects.count()
    run(tmp_path, bundle)
    assert AccessChange.objects.count() == count
    changed = copy.deepcopy(bundle)
    for entry in changed["items"]:
        if entry["key"] == granted[0]["key"]:
            entry["grants"] = []
    run(tmp_path, changed)
    assert held(page, GRANT_CODENAME) == set()
    removed = AccessChange.objects.filter(page_id=page.pk, field="grant", after=False)
    assert removed.count() == len(keys) and {r.source for r in removed} == {"import"}


def test_roles_and_the_approval_workflow(portal):
    change_access = Permission.objects.get(codename="change_page_access")
    editors, moderators = Group.objects.get(name="Editors"), Group.objects.get(name="Moderators")
    assert change_access in editors.permissions.all()
    assert change_access in moderators.permissions.all()
    assert change_access not in Group.objects.get(name="Marketers").permissions.all()

    def page_perms(group):
        return set(
            GroupPagePermission.objects.filter(group=group).values_list(
                "permission__codename", flat=True
            )
        )

    assert {"add_page", "change_page"} <= page_perms(editors)
    assert "publish_page" not in page_perms(editors)
    assert {"add_page", "change_page", "publish_page"} <= page_perms(moderators)

    workflow = Workflow.objects.get(name=APPROVAL_WORKFLOW)
    (task,) = [t.specific for t in workflow.tasks]
    assert list(task.groups.all()) == [moderators]
    # Source-locale pages go to "Approval"; translations to "Translation review" (Regional
    # review, then the same Approval task: issue #11, localization.services).
    for home in PortalHomePage.objects.all():
        expected = "Approval" if home.locale.language_code == "en" else "Translation review"
        assert home.get_workflow().name == expected
        assert [t.specific for t in home.get_workflow().tasks][-1] == task
    item = make_item(key="z")
    assert item.get_workflow() == workflow

    moderator = user_upsert(email="mod@example.test", password="x", staff_role="moderator")
    assert list(moderator.groups.all()) == [moderators] and moderator.is_staff


def test_roles_migration_is_idempotent(portal):
    module = importlib.import_module("permissions.migrations.0006_access_roles_and_approval")
    counts = (Workflow.objects.count(), GroupPagePermission.objects.count())
    module.ensure(apps, None)
    module.ensure(apps, None)
    assert (Workflow.objects.count(), GroupPagePermission.objects.count()) == counts


def test_data_migration_moves_guardian_grants_into_fields_and_revisions(portal):
    """Pages from before this change have guardian rows but empty fields: after the migration
    their fields and revisions carry the grants, so the next publish keeps them."""
    granted, excluded = OrganizationFactory(key="granted"), OrganizationFactory(key="excluded")
    section = library_for_locale("en").add_child(instance=LibraryIndexPage(title="Old", slug="old"))
    section.save_revision().publish()
    base = Page.objects.get(pk=section.pk)
    # The old way: guardian rows written directly, nothing in the page or its revisions.
    assign_perm(GRANT_CODENAME, granted.group, base)
    assign_perm(EXCEPTION_CODENAME, excluded.group, base)
    for revision in base.revisions.all():
        revision.content.pop("audience_grants", None)
        revision.content.pop("audience_exceptions", None)
        revision.save(update_fields=["content"])

    module = importlib.import_module("kb.migrations.0006_grants_exceptions_into_fields")
    module.copy_into_fields(apps, None)
    module.copy_into_fields(apps, None)  # idempotent

    fresh = LibraryIndexPage.objects.get(pk=section.pk)
    assert [o.key for o in fresh.audience_grants.all()] == ["granted"]
    assert [o.key for o in fresh.audience_exceptions.all()] == ["excluded"]
    latest = fresh.get_latest_revision()
    assert latest.content["audience_grants"] == [granted.pk]
    assert latest.content["audience_exceptions"] == [excluded.pk]
    latest.publish()
    assert held(section, GRANT_CODENAME) == {granted.group_id}
    assert held(section, EXCEPTION_CODENAME) == {excluded.group_id}


def test_history_page_shows_the_access_change(client, portal):
    org = OrganizationFactory(name="Lumière")
    item = make_item(key="h")
    draft = item.get_latest_revision_as_object()
    draft.audience_exceptions = [org]
    draft.save_revision().publish()
    client.force_login(User.objects.create_superuser(email="root@example.test", password="x"))
    html = client.get(f"/admin/pages/{item.pk}/history/").content.decode()
    assert "Access changed" in html and "excluded: + Lumière" in html


def test_seed_demo_twice_adds_no_access_rows_for_live_items(demo):
    # The first seed is the session's demo (tests/fixtures.py); this is the second.
    before = AccessChange.objects.filter(page__live=True).count()
    assert before > 0
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert AccessChange.objects.filter(page__live=True).count() == before
    assert (
        User.objects.get(email="approver@vendor.example").groups.filter(name="Moderators").exists()
    )


def test_create_view_refuses_access_from_a_marketer_and_accepts_it_from_an_editor(client, portal):
    org = OrganizationFactory(name="Nordlicht")
    # A marketer adds pages only in his locale (issue #11): the Czech library.
    library = library_for_locale("cs")
    url = f"/admin/pages/add/kb/libraryindexpage/{library.pk}/"
    marketer = user_upsert(email="m@example.test", password="x", staff_role="marketer")
    marketer_set(user=marketer, locales=["cs"])
    editor = user_upsert(email="e@example.test", password="x", staff_role="editor")
    data = nested_form_data({"title": "New section", "slug": "new-section", "intro": rich_text("")})
    data["audience_grants"] = [org.pk]

    client.force_login(marketer)
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="audience_grants"' in response.content.decode()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "You may not change who can see this page" in response.content.decode()
    assert not LibraryIndexPage.objects.filter(slug="new-section").exists()

    client.force_login(editor)
    response = client.post(url, data)  # "Save draft": created, not live, nothing applied
    assert response.status_code == 302, response.content.decode()[:2000]
    page = LibraryIndexPage.objects.get(slug="new-section")
    assert not page.live
    assert [o.pk for o in page.get_latest_revision_as_object().audience_grants.all()] == [org.pk]
    assert not AccessChange.objects.filter(page_id=page.pk).exists()
