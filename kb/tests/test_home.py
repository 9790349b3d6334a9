"""The portal home per persona (issue #14 deliverable 2): a partner's sections (new, expiring
soon, their organisation), the panels apps add through ``portal_home_panels``, staff homes,
the suspended notice, empty states, and a bounded number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from accounts.tests.factories import UserFactory
from files.models import PortalDocument
from files.tests.factories import make_pdf_bytes
from kb.home import HomePanel, home_feed
from kb.models import PortalHomePage
from kb.services import Audience, FileSpec
from kb.tests.factories import make_item
from permissions.models import Membership, PartnerOrganization
from permissions.tests.factories import MembershipFactory, TierFactory

pytestmark = pytest.mark.django_db


def _home() -> PortalHomePage:
    return PortalHomePage.objects.get(locale__language_code="en")


def _client(user) -> Client:
    user.preferred_language = "en"
    user.save()
    client = Client()
    client.force_login(user)
    return client


def _html(client) -> str:
    response = client.get(_home().url)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def _section(html: str, name: str, attr: str = "data-home") -> str:
    start = html.index(f'{attr}="{name}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def partner(portal):
    membership = MembershipFactory(organization__name="Acme GmbH")
    return membership.user, membership.organization


def test_a_partners_sections_show_only_what_they_may_see(partner):
    user, org = partner
    higher = TierFactory(key="home-top", rank=10_000)
    soon = timezone.now() + timedelta(days=10)
    make_item(key="h-new", title="Fresh visible sheet")
    make_item(key="h-hidden", title="Secret tier sheet", audience=Audience(min_tier=higher))
    make_item(key="h-excluded", title="Excluded sheet", audience=Audience(exceptions=[org]))
    make_item(key="h-soon", title="Ends soon sheet", expire_at=soon)
    make_item(
        key="h-soon-hidden",
        title="Hidden ending sheet",
        expire_at=soon,
        audience=Audience(min_tier=higher),
    )
    make_item(key="h-later", title="Ends later sheet", expire_at=timezone.now() + timedelta(40))
    filed = make_item(
        key="h-file",
        title="Sheet with a file",
        files=[FileSpec(name="f.pdf", content=make_pdf_bytes("f"), title="Pinout table")],
    )
    PortalDocument.objects.filter(pk=filed.attachments.get().document_id).update(
        expire_at=timezone.now() + timedelta(days=5)
    )

    html = _html(_client(user))
    for hidden in ("Secret tier sheet", "Excluded sheet", "Hidden ending sheet"):
        assert hidden not in html, hidden
    new = _section(html, "new")
    assert "Fresh visible sheet" in new and "Ends soon sheet" in new
    expiring = _section(html, "expiring")
    assert "Ends soon sheet" in expiring and "Ends later sheet" not in expiring
    # The file whose served version expires: named with its item (which stays).
    assert "Pinout table" in expiring and "Sheet with a file" in expiring
    # The same answers from the selector, counted only over what the user may see.
    feed = home_feed(user=user, home=_home())
    assert [e.item.title for e in feed.expiring] == ["Ends soon sheet"]
    assert [f.file_title for f in feed.expiring_files] == ["Pinout table"]


def test_the_organisation_block_names_the_organisations_admins_only(partner):
    user, org = partner
    admin = MembershipFactory(
        organization=org,
        role=Membership.Role.ADMIN,
        user__first_name="Markus",
        user__last_name="Weber",
        user__email="markus@acme.example",
    ).user
    MembershipFactory(organization=org, user__email="colleague@acme.example")
    gone = MembershipFactory(
        organization=org, role=Membership.Role.ADMIN, user__email="left@acme.example"
    ).user
    gone.is_active = False
    gone.save()
    MembershipFactory(role=Membership.Role.ADMIN, user__email="admin@other.example")

    block = _section(_html(_client(user)), "organization")
    assert "Acme GmbH" in block
    for fact in (org.tier.name, org.region.name, org.partner_type.name):
        assert fact in block
    assert "Markus Weber" in block and 'href="mailto:markus@acme.example"' in block
    for other in ("colleague@acme.example", "left@acme.example", "admin@other.example"):
        assert other not in block
    # The organisation page is linked for its partner admins only.
    organization_url = reverse("accounts:organization")
    assert f'href="{organization_url}"' not in block
    assert f'href="{organization_url}"' in _section(_html(_client(admin)), "organization")


def test_an_organisation_without_admins_says_whom_to_ask(partner):
    user, _org = partner
    block = _section(_html(_client(user)), "organization")
    assert "has no partner admin yet" in block


def test_empty_states_say_what_to_do(partner):
    user, _org = partner
    html = _html(_client(user))
    new = _section(html, "new")
    assert "Nothing new in the last 30 days." in new
    assert 'href="#home-library"' in new and 'id="home-library"' in html
    assert "Nothing you can see expires in the next 30 days." in _section(html, "expiring")
    # Nothing downloaded: no "updated" or "withdrawn" lists at all.
    assert 'data-home="updated"' not in html and 'data-home="withdrawn"' not in html


def _training_panel(request, home):
    return HomePanel(
        slot="training",
        title="Your training",
        template="kb/includes/home_admin_list.html",
        context={"list": None, "empty": "Start the X1 course", "more_url": "/t/", "more": "All"},
    )


def test_apps_fill_slots_through_the_hook_and_a_suspended_member_sees_the_notice_only(partner):
    user, org = partner
    make_item(key="h-visible", title="Visible sheet")
    client = _client(user)
    assert 'data-home-slot="training"' not in _html(client)  # no filler yet: no empty box
    with hooks.register_temporarily("portal_home_panels", _training_panel):
        slot = _section(_html(client), "training", "data-home-slot")
        assert "Your training" in slot and "Start the X1 course" in slot

        PartnerOrganization.objects.filter(pk=org.pk).update(
            status=PartnerOrganization.Status.SUSPENDED
        )
        html = _html(_client(user))
    assert 'data-state="suspended"' in html
    assert "data-home" not in html and "Visible sheet" not in html
    assert "Start the X1 course" not in html and org.name not in html.split("<main", 1)[1]


@pytest.fixture
def staff(portal):
    editor = UserFactory(email="eva@vendor.example", is_staff=True, first_name="Eva")
    editor.groups.add(Group.objects.get(name="Editors"))
    moderator = UserFactory(email="approver@vendor.example", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    return editor, moderator


def test_staff_see_their_drafts_and_what_awaits_their_review(staff):
    editor, moderator = staff
    item = make_item(key="h-draft", title="Launch sheet")
    item.title = "Launch sheet (draft)"
    revision = item.save_revision(user=editor)
    html = _html(_client(editor))
    drafts = _section(html, "drafts", "data-home-slot")
    edit_url = reverse("wagtailadmin_pages:edit", args=[item.pk])
    assert "Launch sheet (draft)" in drafts and f'href="{edit_url}"' in drafts
    assert "Nothing awaits your review." in _section(html, "review", "data-home-slot")
    assert 'data-home="organization"' not in html
    # Nothing of a moderator's: their drafts list is empty.
    assert "You have no unpublished changes" in _section(
        _html(_client(moderator)), "drafts", "data-home-slot"
    )

    workflow = item.get_workflow()
    assert workflow is not None
    workflow.start(item, editor)
    assert revision.pk  # the submitted revision is the draft above
    review = _section(_html(_client(moderator)), "review", "data-home-slot")
    assert "Launch sheet (draft)" in review and f'href="{edit_url}"' in review
    drafts = _section(_html(_client(editor)), "drafts", "data-home-slot")
    assert "in review" in drafts


def test_partners_get_no_staff_panels(partner):
    user, _org = partner
    html = _html(_client(user))
    assert 'data-home-slot="review"' not in html and 'data-home-slot="drafts"' not in html


def test_the_home_costs_a_fixed_number_of_queries(partner, django_assert_max_num_queries):
    user, org = partner
    MembershipFactory(organization=org, role=Membership.Role.ADMIN)
    soon = timezone.now() + timedelta(days=3)
    make_item(
        key="q-0",
        title="Q 0",
        expire_at=soon,
        files=[FileSpec(name="q0.pdf", content=make_pdf_bytes("q0"), title="F0")],
    )
    client = _client(user)
    client.get(_home().url)  # warm the caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_home().url).status_code == 200
    few = len(ctx.captured_queries)

    for n in range(1, 15):
        item = make_item(
            key=f"q-{n}",
            title=f"Q {n}",
            expire_at=soon,
            files=[FileSpec(name=f"q{n}.pdf", content=make_pdf_bytes(f"q{n}"), title=f"F{n}")],
        )
        PortalDocument.objects.filter(pk=item.attachments.get().document_id).update(expire_at=soon)
    for _ in range(4):
        MembershipFactory(organization=org, role=Membership.Role.ADMIN)
    client.get(_home().url)
    with django_assert_max_num_queries(few):
        html = _html(client)
    expiring = _section(html, "expiring")
    # Soonest first, up to the limit of each list, whatever the number that expire.
    assert expiring.count('data-expiring="item"') == 8
    assert expiring.count('data-expiring="file"') == 8
