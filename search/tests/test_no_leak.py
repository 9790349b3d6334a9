"""Property test: search returns exactly what the policy lets the asker see (no leak, no miss).

Hypothesis builds random worlds (tiers, nested regions, partner types, organisations, some
suspended; a tree of items with random audiences and live states; random grants and exceptions;
the generator of permissions/tests/test_policy_properties.py) where every item shares one word.
For every asker (anonymous, unaffiliated, one member per organisation, staff) a search for that
word must return
exactly ``PortalItemPage.objects.live().visible_to(user)`` and facet counts must add up to it, on
both backends.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from accounts.models import User
from kb.models import PortalItemPage
from kb.services import library_for_locale
from permissions.policies.search import search_audiences, search_filter_for
from permissions.tests import test_policy_properties as props
from search.backends.base import SearchQuery
from search.documents import iter_documents
from search.tests.conftest import HAVE_OSMEM, engine_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_library(portal):
    library = library_for_locale("en")
    library.audience_public = True
    library.save()
    return library


def _check(backend, world: props.World) -> None:
    # _build uses nothing of its test case instance.
    built = props.PolicyAgreementTests._build(None, world)  # type: ignore[arg-type]
    pages, users, translated = built
    # Items in both languages: translations carry their source's word and are searched too.
    ids = [page.pk for index, page in pages.items() if index != -1]
    ids += [page.pk for index, page in translated.items() if index != -1]
    PortalItemPage.objects.filter(pk__in=ids).update(summary="zebrafish and more")
    backend.rebuild(iter_documents(with_files=False))
    backend.refresh()
    live_items = list(PortalItemPage.objects.live().filter(pk__in=ids))
    audiences = search_audiences(live_items)
    staff = User.objects.create_user(email="staff@example.test", password=None, is_staff=True)
    unaffiliated = User.objects.create_user(email="nobody@example.test", password=None)
    askers: list[User | AnonymousUser] = [
        AnonymousUser(),
        unaffiliated,
        staff,
        *(User.objects.get(pk=u.pk) for u in users),
    ]
    for user in askers:
        expected = set(
            PortalItemPage.objects.live()
            .visible_to(user)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        flt = search_filter_for(user)
        in_python = {pk for pk, aud in audiences.items() if aud.visible_to(flt)}
        assert in_python == expected, (user, "SearchAudience.visible_to")
        result = backend.search(SearchQuery("zebrafish", flt, limit=50))
        assert set(result.ids) == expected, (user, sorted(result.ids), sorted(expected))
        assert result.total == len(expected)
        # Suggest: as-you-type titles ("Item…", translations "Item…-de") from the same filter.
        suggested = {s.id for s in backend.suggest("item", flt, limit=50)}
        assert suggested == expected, (user, "suggest", sorted(suggested), sorted(expected))
        if expected:
            assert sum(result.facets["kind"].values()) == len(expected)
            assert sum(result.facets["locale"].values()) == len(expected)
        else:
            assert not any(result.facets.get("kind", {}).values())


# The database leg follows the hypothesis profile (capped: CI's 1,000 would take ~15 minutes);
# the engine leg rebuilds three indexes per example on osmem, so it runs fewer.
DATABASE_EXAMPLES = min(settings().max_examples, 200)
ENGINE_EXAMPLES = min(settings().max_examples, 25)


@settings(
    max_examples=DATABASE_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=props.worlds())
def test_search_matches_policy_database(public_library, world):
    from search.backends.database import SearchBackend

    with transaction.atomic():
        try:
            _check(SearchBackend({}), world)
        finally:
            transaction.set_rollback(True)


@pytest.mark.search_engine
@pytest.mark.skipif(not HAVE_OSMEM, reason="osmem-server not installed")
@settings(max_examples=ENGINE_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=props.worlds())
def test_search_matches_policy_engine(osmem_clone, public_library, world):
    backend = engine_backend(osmem_clone.url)
    with transaction.atomic():
        try:
            _check(backend, world)
        finally:
            transaction.set_rollback(True)
            backend.drop_all()
