"""Regional marketers: one Wagtail group per locale, scoped to that locale's tree."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Locale

from accounts.tests.factories import UserFactory
from localization.selectors import marketer_locales, marketer_regions
from localization.services import marketer_group_ensure, marketer_set
from permissions.tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


def test_marketer_group_holds_add_and_change_on_its_locale_home_only(portal):
    group = marketer_group_ensure(locale="cs")
    assert group.name == "Marketers (cs)"
    rows = set(
        GroupPagePermission.objects.filter(group=group).values_list(
            "page_id", "permission__codename"
        )
    )
    assert rows == {(portal["cs"].pk, "add_page"), (portal["cs"].pk, "change_page")}
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {"access_admin", "submit_translation"}
    # Idempotent: a second call adds nothing.
    marketer_group_ensure(locale=Locale.objects.get(language_code="cs"))
    assert GroupPagePermission.objects.filter(group=group).count() == 2


def test_marketer_group_drops_rows_on_other_trees(portal):
    group = marketer_group_ensure(locale="de")
    GroupPagePermission.objects.create(
        group=group,
        page=portal["en"],
        permission_id=GroupPagePermission.objects.filter(group=group).first().permission_id,
    )
    marketer_group_ensure(locale="de")
    assert set(
        GroupPagePermission.objects.filter(group=group).values_list("page_id", flat=True)
    ) == {portal["de"].pk}


def test_source_locale_has_no_marketers(portal):
    with pytest.raises(ValueError, match="source locale"):
        marketer_group_ensure(locale="en")
    with pytest.raises(ValueError, match="unknown"):
        marketer_group_ensure(locale="xx")


def test_marketer_set_exact_locales_and_regions(portal):
    user = UserFactory()
    editors = Group.objects.get(name="Editors")
    user.groups.add(editors)
    marketer_set(user=user, locales=["CS", "de"], regions=[RegionFactory(key="dach")])
    user.refresh_from_db()
    assert user.is_staff
    assert [locale.language_code for locale in marketer_locales(user=user)] == ["cs", "de"]
    assert [region.key for region in marketer_regions(user=user)] == ["dach"]
    assert user.groups.filter(name="Marketers").exists()

    marketer_set(user=user, locales=[Locale.objects.get(language_code="cs")])
    assert [locale.language_code for locale in marketer_locales(user=user)] == ["cs"]
    assert [region.key for region in marketer_regions(user=user)] == ["dach"]  # None keeps
    assert user.groups.filter(pk=editors.pk).exists()  # other roles are left alone

    marketer_set(user=user, locales=[], regions=[])
    assert marketer_locales(user=user) == []
    assert marketer_regions(user=user) == []


def test_global_marketers_group_holds_nothing_on_pages(portal):
    assert not GroupPagePermission.objects.filter(group__name="Marketers").exists()
