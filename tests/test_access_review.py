"""Access changes go through approval (issue #9, deliverable 1), over HTTP against the real admin.

The demo world: Anna (Acme, Gold reseller in DACH) must not see the *Platinum lounge* or the
confidential roadmap inside it; Lukas (Alpen IT) has an explicit exception on the F9 battlecard.
Staff act through Wagtail's own edit, workflow and history views with the fields a browser would
submit from the rendered form (disabled inputs are not submitted), partners through the portal's
item page, file download and search.
"""

from __future__ import annotations

import datetime
import io
import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from wagtail.models import Locale, Page, PageLogEntry, Revision, WorkflowState

from kb.models import ItemKey, LibraryIndexPage
from localization.services import marketer_set
from permissions.models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    AccessChange,
    PageGroupObjectPermission,
    PartnerOrganization,
    Tier,
)
from permissions.panels import ACCESS_FIELDS
from permissions.policies.pages import page_access_policy
from search.backends import get_search_backend
from search.documents import iter_documents

pytestmark = pytest.mark.django_db

User = get_user_model()
EDITOR, MARKETER, APPROVER = "eva@vendor.example", "jiri@vendor.example", "approver@vendor.example"


# --- a browser's view of a form ------------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser submits from the page editor's form: enabled, named controls only."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.fields: list[tuple[str, str]] = []
        self.disabled: set[str] = set()
        self._select: tuple[str, bool] | None = None
        self._textarea: tuple[str, bool] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "page-edit-form":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        disabled = "disabled" in a
        if name and disabled:
            self.disabled.add(name)
        if tag == "input" and name:
            kind = a.get("type", "text")
            if disabled or kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = (name, disabled)
        elif tag == "option" and self._select and "selected" in a and not self._select[1]:
            self.fields.append((self._select[0], a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = (name, disabled), ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            if not self._textarea[1]:
                self.fields.append((self._textarea[0], self._text))
            self._textarea = None


def edit_form(client: Client, page: Page) -> tuple[dict[str, list[str]], set[str]]:
    """GET the page editor and return (the POST data a browser would send, disabled names)."""
    response = client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    assert "title" in data, "the page editor's form was not found"
    return data, parser.disabled


def post_edit(client: Client, page: Page, data: dict[str, list[str]], action: str | None = None):
    payload = dict(data)
    if action:
        payload[f"action-{action}"] = [action]
    return client.post(f"/admin/pages/{page.pk}/edit/", payload)


# --- the world ---------------------------------------------------------------------------------


def staff(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def partner(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def item(key: str):
    return ItemKey.objects.get(key=key).page.specific


def lounge() -> LibraryIndexPage:
    return LibraryIndexPage.objects.get(slug="platinum-lounge")


def org(key: str) -> PartnerOrganization:
    return PartnerOrganization.objects.get(key=key)


def file_urls(page) -> list[str]:
    specific = page.specific
    documents = [a.document for a in specific.attachments.select_related("document")]
    if getattr(specific, "master_document", None):
        documents.append(specific.master_document)
    assert documents, "the item has no files"
    return [f"/portal/items/{page.pk}/files/{d.pk}/{d.filename}" for d in documents]


def sees(client: Client, page, *, word: str) -> dict[str, object]:
    """What a partner gets for ``page``: its status, its files' statuses, and whether search
    lists it."""
    html = client.get("/search/", {"q": word}).content.decode()
    return {
        "page": client.get(page.url).status_code,
        "files": {client.get(url).status_code for url in file_urls(page)},
        "search": page.title in html or f'href="{page.url}"' in html,
    }


HIDDEN = {"page": 404, "files": {404}, "search": False}
VISIBLE = {"page": 200, "files": {200}, "search": True}


@pytest.fixture
def indexed(demo, django_capture_on_commit_callbacks):
    """The demo with its portal search index built; ``commit()`` runs the index updates that a
    transaction commit would trigger (the demo lives in one test transaction)."""
    get_search_backend().rebuild(iter_documents())
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def czech_lounge(demo) -> LibraryIndexPage:
    """Jiří as the Czech marketer and the Czech translation of the Platinum lounge: marketers
    edit only their locales' pages (issue #11), and may not change who sees them."""
    marketer_set(user=User.objects.get(email=MARKETER), locales=["cs"])
    source = lounge()
    czech = Locale.objects.get(language_code="cs")
    page = source.get_translation_or_none(czech)
    if page is None:
        page = source.copy_for_translation(czech)
        page.save_revision().publish()
    return LibraryIndexPage.objects.get(pk=page.pk)


def guardian_orgs(page, codename: str) -> set[str]:
    groups = PageGroupObjectPermission.objects.filter(
        content_object_id=page.pk, permission__codename=codename
    ).values("group_id")
    return set(
        PartnerOrganization.objects.filter(group_id__in=groups).values_list("key", flat=True)
    )


def audit_mark() -> int:
    """The newest audit row now (the demo seed audits its own access as "demo")."""
    return AccessChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def changes_since(mark: int, page):
    return AccessChange.objects.filter(pk__gt=mark, page_id=page.pk)


def latest_revision_access(page) -> dict:
    content = Page.objects.get(pk=page.pk).get_latest_revision().content
    return {name: content.get(name) for name in ACCESS_FIELDS}


# --- (2) who may change access at all ------------------------------------------------------------


def test_access_permission_is_held_by_editors_moderators_and_superusers_only(demo):
    for email, allowed in (
        (EDITOR, True),
        (APPROVER, True),
        ("admin@vendor.example", True),
        (MARKETER, False),
        ("anna@acme.example", False),
    ):
        user = User.objects.get(email=email)
        assert page_access_policy.user_has_permission(user, "change_access") is allowed, email


def test_marketer_sees_access_read_only_and_can_still_edit_content(demo, indexed, czech_lounge):
    page = czech_lounge
    client = staff(MARKETER)
    data, disabled = edit_form(client, page)
    assert set(ACCESS_FIELDS) <= disabled
    before_live = (guardian_orgs(page, GRANT_CODENAME), page.audience.own_min_rank)
    data["title"] = ["Platinum lounge (reviewed)"]
    response = post_edit(client, page, data)  # "Save draft", as a browser sends it
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Page.objects.get(pk=page.pk).get_latest_revision().content["title"] == (
        "Platinum lounge (reviewed)"
    )
    assert latest_revision_access(page)["audience_min_tier"] == page.audience_min_tier_id
    assert (guardian_orgs(page, GRANT_CODENAME), page.audience.own_min_rank) == before_live


@pytest.mark.parametrize("action", [None, "submit"])
@pytest.mark.parametrize(
    "field", ["audience_grants", "audience_exceptions", "audience_min_tier", "audience_public"]
)
def test_marketer_access_change_is_refused_with_a_form_error(
    demo, indexed, czech_lounge, action, field
):
    page = czech_lounge
    client = staff(MARKETER)
    data, _ = edit_form(client, page)
    revisions = Revision.objects.filter(object_id=str(page.pk)).count()
    mark = audit_mark()
    access_before = latest_revision_access(page)
    silver = Tier.objects.get(key="silver")
    forged = {
        "audience_grants": [str(org("acme").pk)],
        "audience_exceptions": [str(org("northstar").pk)],
        "audience_min_tier": [str(silver.pk)],
        "audience_public": ["on"],
    }
    data[field] = forged[field]  # posted anyway (the input was disabled in the form)
    data["title"] = ["Platinum lounge (marketer)"]
    with indexed():
        response = post_edit(client, page, data, action)
    assert response.status_code == 200
    html = response.content.decode()
    # Jiří reads the admin in Czech; the first clause of the message (HTML escapes apart).
    refusal = _cs(
        "You may not change who can see this page; this change was not "
        "saved. Leave the field as it was, or ask an editor."
    )
    assert refusal.split(";")[0] in html
    # Nothing changed: no revision, no workflow, nothing live, nothing a partner sees.
    assert Revision.objects.filter(object_id=str(page.pk)).count() == revisions
    assert latest_revision_access(page) == access_before
    assert not WorkflowState.objects.filter(object_id=str(page.pk)).exists()
    assert guardian_orgs(page, GRANT_CODENAME) == set()
    assert guardian_orgs(page, EXCEPTION_CODENAME) == set()
    fresh = LibraryIndexPage.objects.get(pk=page.pk)
    assert fresh.audience.own_min_rank == fresh.audience_min_tier.rank
    assert not changes_since(mark, page).exists()
    assert sees(partner("anna@acme.example"), item("demo-roadmap-2027"), word="roadmap") == HIDDEN


def test_marketer_autosave_with_an_access_change_saves_nothing(demo, indexed, czech_lounge):
    page = czech_lounge
    client = staff(MARKETER)
    data, _ = edit_form(client, page)
    revisions = Revision.objects.filter(object_id=str(page.pk)).count()
    data["audience_grants"] = [str(org("acme").pk)]
    # Autosave posts the same form and asks for JSON.
    response = client.post(
        f"/admin/pages/{page.pk}/edit/", data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "validation_error", response.json()
    assert Revision.objects.filter(object_id=str(page.pk)).count() == revisions
    assert guardian_orgs(page, GRANT_CODENAME) == set()
    # The same autosave without the access change is saved (a draft revision).
    data.pop("audience_grants")
    response = client.post(
        f"/admin/pages/{page.pk}/edit/", data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and response.json()["success"] is True
    assert Revision.objects.filter(object_id=str(page.pk)).count() == revisions + 1


# --- (1) grants go live only with an approved revision -------------------------------------------


def test_editor_grant_reaches_partners_only_when_a_moderator_approves(demo, indexed):
    section, roadmap = lounge(), item("demo-roadmap-2027")
    mark = audit_mark()
    anna = partner("anna@acme.example")
    assert sees(anna, roadmap, word="roadmap") == HIDDEN
    editor = staff(EDITOR)
    data, disabled = edit_form(editor, section)
    assert not disabled & set(ACCESS_FIELDS)  # editors may change access
    data["audience_grants"] = [str(org("acme").pk)]

    # A draft save, then "Submit to Approval": the grant is in the revision, nothing is live.
    with indexed():
        assert post_edit(editor, section, data).status_code == 302
    assert sees(anna, roadmap, word="roadmap") == HIDDEN
    with indexed():
        assert post_edit(editor, section, data, "submit").status_code == 302
    assert latest_revision_access(section)["audience_grants"] == [org("acme").pk]
    state = WorkflowState.objects.get(object_id=str(section.pk), status="in_progress")
    assert guardian_orgs(section, GRANT_CODENAME) == set()
    assert sees(anna, roadmap, word="roadmap") == HIDDEN

    # An editor cannot publish it herself.
    with indexed():
        post_edit(editor, section, data, "publish")
    assert guardian_orgs(section, GRANT_CODENAME) == set()
    assert sees(anna, roadmap, word="roadmap") == HIDDEN

    # The approver sees what approving will change.
    approver = staff(APPROVER)
    html = approver.get(f"/admin/pages/{section.pk}/edit/").content.decode()
    assert "Pending access changes" in html and "granted: + Acme GmbH" in html
    assert re.search(r"Would start seeing it:\s*Acme GmbH\s*</p>", html)
    assert "Would stop seeing it" not in html
    compare = approver.get(f"/admin/pages/{section.pk}/revisions/compare/live...latest/")
    assert compare.status_code == 200 and "Acme GmbH" in compare.content.decode()

    submitted = Page.objects.get(pk=section.pk).get_latest_revision()
    state.refresh_from_db()
    with indexed():
        response = approver.post(
            f"/admin/pages/workflow/action/{section.pk}/approve/{state.current_task_state_id}/",
            {"comment": ""},
        )
    assert response.status_code == 302
    assert guardian_orgs(section, GRANT_CODENAME) == {"acme"}
    assert sees(partner("anna@acme.example"), roadmap, word="roadmap") == VISIBLE

    # (4) audited: who asked, who applied, what changed; and shown in the page's history.
    change = changes_since(mark, section).get()
    assert (change.field, change.organization_id, change.before, change.after) == (
        "grant",
        org("acme").pk,
        False,
        True,
    )
    assert change.requested_by.email == EDITOR
    assert change.applied_by.email == APPROVER
    assert change.source == "admin" and change.revision_id == submitted.pk
    entry = PageLogEntry.objects.filter(
        page_id=section.pk, action="permissions.access_change"
    ).latest("pk")
    assert entry.user.email == APPROVER and entry.revision_id == submitted.pk
    history = approver.get(f"/admin/pages/{section.pk}/history/").content.decode()
    assert "Access changed" in history and "granted: + Acme GmbH" in history
    assert "requested by Eva Bergmann" in history

    # Publishing again without an access change writes no audit row.
    with indexed():
        data, _ = edit_form(approver, section)
        data["title"] = ["Platinum lounge"]
        assert post_edit(approver, section, data, "publish").status_code == 302
    assert changes_since(mark, section).count() == 1


def test_rejected_submission_changes_nothing(demo, indexed):
    section, roadmap = lounge(), item("demo-roadmap-2027")
    mark = audit_mark()
    editor = staff(EDITOR)
    data, _ = edit_form(editor, section)
    data["audience_grants"] = [str(org("acme").pk)]
    with indexed():
        assert post_edit(editor, section, data, "submit").status_code == 302
    state = WorkflowState.objects.get(object_id=str(section.pk), status="in_progress")
    with indexed():
        response = staff(APPROVER).post(
            f"/admin/pages/workflow/action/{section.pk}/reject/{state.current_task_state_id}/",
            {"comment": "not for Gold partners"},
        )
    assert response.status_code == 302
    assert guardian_orgs(section, GRANT_CODENAME) == set()
    assert not changes_since(mark, section).exists()
    assert sees(partner("anna@acme.example"), roadmap, word="roadmap") == HIDDEN


def test_removing_an_exception_in_a_draft_keeps_the_item_hidden_until_published(demo, indexed):
    battlecard = item("demo-f9-battlecard")
    mark = audit_mark()
    lukas = partner("lukas@alpen-it.example")
    assert sees(lukas, battlecard, word="battlecard") == HIDDEN
    editor = staff(EDITOR)
    data, _ = edit_form(editor, battlecard)
    assert data["audience_exceptions"] == [str(org("alpen-it").pk)]
    data.pop("audience_exceptions")  # all options deselected
    with indexed():
        assert post_edit(editor, battlecard, data).status_code == 302
        assert post_edit(editor, battlecard, data, "submit").status_code == 302
    assert latest_revision_access(battlecard)["audience_exceptions"] == []
    assert guardian_orgs(battlecard, EXCEPTION_CODENAME) == {"alpen-it"}
    assert sees(partner("lukas@alpen-it.example"), battlecard, word="battlecard") == HIDDEN

    # A moderator approves the editor's submission.
    approver = staff(APPROVER)
    data, _ = edit_form(approver, battlecard)
    assert "audience_exceptions" not in data  # the editor shows the draft
    state = WorkflowState.objects.get(object_id=str(battlecard.pk), status="in_progress")
    with indexed():
        response = approver.post(
            f"/admin/pages/workflow/action/{battlecard.pk}/approve/{state.current_task_state_id}/",
            {"comment": ""},
        )
    assert response.status_code == 302
    assert guardian_orgs(battlecard, EXCEPTION_CODENAME) == set()
    assert sees(partner("lukas@alpen-it.example"), battlecard, word="battlecard") == VISIBLE
    change = changes_since(mark, battlecard).get()
    assert (change.field, change.organization_name, change.before, change.after) == (
        "exception",
        "Alpen IT Service GmbH",
        True,
        False,
    )
    assert change.requested_by.email == EDITOR and change.applied_by.email == APPROVER


def test_tier_change_is_audited_with_before_and_after(demo, indexed):
    section = lounge()
    mark = audit_mark()
    approver = staff(APPROVER)
    data, _ = edit_form(approver, section)
    data["audience_min_tier"] = [str(Tier.objects.get(key="gold").pk)]
    with indexed():
        assert post_edit(approver, section, data, "publish").status_code == 302
    change = changes_since(mark, section).get()
    assert (change.field, change.before, change.after) == ("min_tier", "Platinum", "Gold")
    assert change.requested_by == change.applied_by == User.objects.get(email=APPROVER)
    assert sees(partner("anna@acme.example"), item("demo-roadmap-2027"), word="roadmap") == (
        VISIBLE
    )


# --- scheduled publishing ------------------------------------------------------------------------


def test_scheduled_publish_applies_the_access_change_when_it_goes_live(demo, indexed):
    section, roadmap = lounge(), item("demo-roadmap-2027")
    mark = audit_mark()
    approver = staff(APPROVER)
    data, _ = edit_form(approver, section)
    data["audience_grants"] = [str(org("acme").pk)]
    go_live = (timezone.now() + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    data["go_live_at"] = [timezone.localtime(go_live).strftime("%Y-%m-%d %H:%M")]
    with indexed():
        assert post_edit(approver, section, data, "publish").status_code == 302
    revision = Revision.objects.get(object_id=str(section.pk), approved_go_live_at__isnull=False)
    assert guardian_orgs(section, GRANT_CODENAME) == set()
    assert not changes_since(mark, section).exists()
    with indexed():
        call_command("publish_scheduled")  # not due yet
    assert guardian_orgs(section, GRANT_CODENAME) == set()
    assert sees(partner("anna@acme.example"), roadmap, word="roadmap") == HIDDEN

    # Two hours later the scheduler publishes it: only now does the grant apply.
    # (The form reads the time in the approver's time zone: take the go-live time it stored.)
    assert revision.approved_go_live_at > timezone.now() + datetime.timedelta(minutes=30)
    later = revision.approved_go_live_at + datetime.timedelta(minutes=1)
    with indexed(), mock.patch("django.utils.timezone.now", return_value=later):
        call_command("publish_scheduled", stdout=io.StringIO())
    assert guardian_orgs(section, GRANT_CODENAME) == {"acme"}
    assert sees(partner("anna@acme.example"), roadmap, word="roadmap") == VISIBLE
    change = changes_since(mark, section).get()
    assert change.source == "scheduled" and change.applied_by is None
    assert change.requested_by.email == APPROVER and change.revision_id == revision.pk


# --- imports and the demo ----------------------------------------------------------------------


def test_demo_access_is_in_the_fields_and_audited_as_demo(demo):
    battlecard, brochure = item("demo-f9-battlecard"), item("demo-x1-brochure")
    assert {o.key for o in battlecard.audience_exceptions.all()} == {"alpen-it"}
    assert {o.key for o in brochure.audience_grants.all()} == {"brightline"}
    latest = battlecard.get_latest_revision().content
    assert latest["audience_exceptions"] == [org("alpen-it").pk]
    assert AccessChange.objects.filter(
        page_id=battlecard.pk, field="exception", source="demo", after=True
    ).exists()
    # A second seed changes nothing that partners see: no new audit rows for live items.
    before = AccessChange.objects.filter(page__live=True).count()
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert AccessChange.objects.filter(page__live=True).count() == before


def _cs(message: str) -> str:
    """``message`` as a Czech reader sees it (the page speaks the reader's language)."""
    from django.utils import translation

    with translation.override("cs"):
        return translation.gettext(message)
