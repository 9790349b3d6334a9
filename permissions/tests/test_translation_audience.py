"""One audience per translation group (docs/translation-audience.md): the leak of the first release,
reproduced and closed, and how the compiled rule follows its source through publish, unpublish,
grants, narrowing, moves and the access audit. The property test covers random groups."""

from __future__ import annotations

import pytest
from wagtail.models import Locale

from files.models import PortalDocument
from kb.models import ItemAttachment
from kb.services import Audience, library_for_locale
from kb.tests.factories import make_item
from permissions.models import AccessChange, PageAudience
from permissions.policies.files import document_policy
from permissions.policies.pages import page_policy
from permissions.services import audience_set_exceptions, audience_set_grants
from permissions.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db


def _visible(user, page) -> tuple[bool, bool]:
    """The instance check and the queryset filter, which must agree."""
    listed = page_policy.filter_visible(user, type(page).objects.filter(pk=page.pk)).exists()
    return page_policy.can_view(user, page), listed


@pytest.fixture
def group(portal):
    """An English battlecard with a file, one excepted and one granted organisation, and its
    Czech translation made the way wagtail-localize makes it (a copy in the cs tree)."""
    emea = RegionFactory(key="emea")
    cz = RegionFactory(key="cz", parent=emea)
    dach = RegionFactory(key="dach", parent=emea)
    source = make_item(key="f9-battlecard", audience=Audience(regions=(emea,)))
    document = PortalDocument.objects.create(title="F9 battlecard", file="t/f9.pdf")
    ItemAttachment.objects.create(page=source, document=document)
    source.save_revision().publish()
    excepted = OrganizationFactory(key="alpen-it", region=dach)
    granted = OrganizationFactory(key="far-away", region=RegionFactory(key="apac"))
    plain = OrganizationFactory(key="prague-net", region=cz)
    audience_set_exceptions(page=source, organizations=[excepted])
    audience_set_grants(page=source, organizations=[granted])
    source.refresh_from_db()
    translation = source.copy_for_translation(Locale.objects.get(language_code="cs"))
    translation.title = "F9 battlecard (cs)"
    translation.save_revision().publish()
    translation.refresh_from_db()
    # The master PDF reachable through the translation too (as a copy of the first release
    # carried it, and as a localized file that is the master's bytes would).
    ItemAttachment.objects.create(page=translation, document=document)
    users = {
        org.key: MembershipFactory(organization=org).user for org in (excepted, granted, plain)
    }
    return {
        "source": source,
        "translation": translation.specific,
        "document": document,
        "users": users,
        "regions": {"cz": cz, "dach": dach},
    }


def test_an_exception_on_the_source_closes_the_translation_at_every_exit(group):
    translation, document = group["translation"], group["document"]
    alpen = group["users"]["alpen-it"]
    assert _visible(alpen, translation) == (False, False)
    assert translation.attachments.filter(document=document).exists()
    assert not document_policy.can_download(alpen, translation, document)
    assert not document_policy.filter_visible(
        alpen, PortalDocument.objects.filter(pk=document.pk)
    ).exists()
    # Others see it, and a grant on the source opens the translation as it opens the source.
    assert _visible(group["users"]["prague-net"], translation) == (True, True)
    assert _visible(group["users"]["far-away"], translation) == (True, True)


def test_a_translation_narrows_never_widens(group):
    source, translation = group["source"], group["translation"]
    users = group["users"]
    translation.audience_regions = [group["regions"]["cz"]]
    translation.save_revision().publish()
    translation.refresh_from_db()
    row = PageAudience.objects.get(page=translation)
    assert row.source_id == source.pk and not row.detached
    # Narrowed to Czechia: the Czech partner still sees it, a grant on the source still
    # beats the narrowing (grants beat rules everywhere), the excepted one still does not.
    assert _visible(users["prague-net"], translation) == (True, True)
    assert _visible(users["far-away"], translation) == (True, True)
    assert _visible(users["alpen-it"], translation) == (False, False)
    # Widening is impossible: a public translation of a restricted source stays restricted.
    translation.audience_regions = []
    translation.audience_public = True
    translation.save_revision().publish()
    assert page_policy.can_view(None, translation) is False
    # The audit speaks of the translation's own fields, not of the combined rule.
    changes = AccessChange.objects.filter(page_id=translation.pk).values_list("field", flat=True)
    assert "regions" in set(changes) and "public" in set(changes)


def test_grants_and_exceptions_on_a_translation_count_for_nothing(group):
    translation, users = group["translation"], group["users"]
    with pytest.raises(ValueError, match="source"):
        audience_set_grants(
            page=translation, organizations=[users["alpen-it"].membership.organization]
        )
    # As copied or edited fields published with a revision: ignored, no guardian rows.
    translation.audience_grants = [users["alpen-it"].membership.organization]
    translation.audience_exceptions = [users["prague-net"].membership.organization]
    translation.save_revision().publish()
    assert _visible(users["alpen-it"], translation) == (False, False)
    assert _visible(users["prague-net"], translation) == (True, True)


def test_an_offline_source_hides_its_translations_until_it_is_live_again(group):
    source, translation, users = group["source"], group["translation"], group["users"]
    source.unpublish()
    assert PageAudience.objects.get(page=translation).source_live is False
    for user in users.values():
        assert _visible(user, translation) == (False, False)
    assert "original" in " ".join(page_policy.explain(users["prague-net"], translation).reasons)
    source.refresh_from_db()
    source.save_revision().publish()
    assert _visible(users["prague-net"], translation) == (True, True)


def test_a_source_rule_change_reaches_its_translations_at_publish(group):
    source, translation, users = group["source"], group["translation"], group["users"]
    source.audience_regions = [group["regions"]["dach"]]
    revision = source.save_revision()
    # A draft changes nothing for anyone.
    assert _visible(users["prague-net"], translation) == (True, True)
    revision.publish()
    assert _visible(users["prague-net"], translation) == (False, False)


def test_a_misplaced_translation_admits_nobody(group):
    translation, users = group["translation"], group["users"]
    elsewhere = make_item(key="cs-standalone", parent=library_for_locale("cs"))
    translation.move(elsewhere, pos="last-child")
    row = PageAudience.objects.get(page_id=translation.pk)
    assert row.detached
    translation.refresh_from_db()
    for user in users.values():
        assert _visible(user, translation) == (False, False)


def test_translations_compiled_by_an_earlier_release_are_adopted_after_migrate(group):
    from permissions.services import audience_translations_adopt

    translation, users = group["translation"], group["users"]
    # As an earlier release left it: a standalone row, no source, the exception not applied.
    PageAudience.objects.filter(page=translation).update(
        source=None, translation_own=None, own_regions=None, eff_regions=None, own_exceptions="|"
    )
    assert page_policy.can_view(users["alpen-it"], translation)
    assert audience_translations_adopt() == 1
    assert _visible(users["alpen-it"], translation) == (False, False)
    assert audience_translations_adopt() == 0
