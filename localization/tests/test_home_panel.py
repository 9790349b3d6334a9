"""A regional marketer's portal home: the open translation tasks of his locales (through kb's
``portal_home_panels`` hook), linked into the admin; nothing of other locales, and no such
panel for partners or editors."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.tests.factories import UserFactory
from kb.models import PortalHomePage
from kb.tests.factories import make_item
from localization.services import marketer_set
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _html(user, code: str = "cs") -> str:
    user.preferred_language = code
    user.save()
    client = Client()
    client.force_login(user)
    response = client.get(PortalHomePage.objects.get(locale__language_code=code).url)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_marketer_sees_his_locales_open_tasks(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_item(key="tr-x1", title="X1 sheet to translate")
        make_item(key="tr-w3", title="W3 sheet to translate")
    jiri = marketer_set(user=UserFactory(email="jiri@vendor.example"), locales=["cs"])
    html = _html(jiri)
    start = html.index('data-home-slot="translations"')
    panel = html[start : html.index("</section>", start)]
    assert 'data-locale="cs"' in panel and 'data-locale="de"' not in panel
    assert "2 otevřené úkoly" in panel  # "2 open tasks", in Jiří's Czech
    assert "X1 sheet to translate" in panel and "W3 sheet to translate" in panel
    assert 'href="/admin/translations/cs/?state=missing"' in panel
    # A marketer is staff: his drafts and reviews too, no partner organisation.
    assert 'data-home-slot="drafts"' in html and 'data-home="organization"' not in html


def test_no_translation_panel_for_partners_or_editors(portal):
    partner = MembershipFactory().user
    editor = UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    for user in (partner, editor):
        assert 'data-home-slot="translations"' not in _html(user, "en")
