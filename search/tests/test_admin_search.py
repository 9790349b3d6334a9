"""Admin search: Wagtail's own backend is elasticsearch8 when the engine address is set, on the
transport PORTAL_SEARCH_FLAVOR selects (plain Elasticsearch by default; the test settings select
the OpenSearch-compatible one for osmem-server)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from search.tests.conftest import HAVE_OSMEM


def _settings_with(env: dict, module: str = "portal_site.settings.test") -> dict:
    code = (
        f"import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = {module!r}; "
        "from django.conf import settings; "
        "print(json.dumps({'admin': settings.WAGTAILSEARCH_BACKENDS['default']['BACKEND'], "
        "'portal': settings.PORTAL_SEARCH_BACKENDS['default']['BACKEND'], "
        "'chain': list(settings.PORTAL_SEARCH_BACKENDS), "
        "'flavor': settings.PORTAL_SEARCH_FLAVOR, "
        "'transport_imported': 'search.transport' in __import__('sys').modules}))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_backends_follow_the_engine_address(monkeypatch):
    import os

    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORTAL_SEARCH_URL", "PORTAL_SEARCH_FLAVOR", "DJANGO_SETTINGS_MODULE")
    }
    assert _settings_with(base) == {
        "admin": "search.wagtail_backend",
        "portal": "search.backends.database",
        "chain": ["default"],
        "flavor": "opensearch",  # the test settings: osmem-server
        "transport_imported": False,
    }
    assert _settings_with({**base, "PORTAL_SEARCH_URL": "http://127.0.0.1:9200"}) == {
        "admin": "search.wagtail_elasticsearch",
        "portal": "search.backends.elasticsearch",
        "chain": ["default", "database"],
        "flavor": "opensearch",
        "transport_imported": False,  # settings name backends; they never import search code
    }


def test_production_defaults_to_elasticsearch_and_selects_opensearch_by_setting():
    import os

    from tests.test_production_settings import PRODUCTION_ENV

    base = {
        **{k: v for k, v in os.environ.items() if k != "PORTAL_SEARCH_FLAVOR"},
        **PRODUCTION_ENV,
        "PORTAL_SEARCH_URL": "http://127.0.0.1:9200",
    }
    production = "portal_site.settings.production"
    assert _settings_with(base, production)["flavor"] == "elasticsearch"
    chosen = _settings_with({**base, "PORTAL_SEARCH_FLAVOR": "opensearch"}, production)
    assert chosen["flavor"] == "opensearch"
    assert not chosen["transport_imported"]


def test_the_flavor_picks_the_transport_node(settings):
    from elastic_transport import Urllib3HttpNode

    from search.backends.elasticsearch import SearchBackend
    from search.transport import CompatibleJsonNode

    def node_class(**params):
        backend = SearchBackend({"URLS": ["http://127.0.0.1:9"], **params})
        return type(backend.client.transport.node_pool.get())

    settings.PORTAL_SEARCH_FLAVOR = "elasticsearch"
    assert node_class() is Urllib3HttpNode
    settings.PORTAL_SEARCH_FLAVOR = "opensearch"
    assert node_class() is CompatibleJsonNode
    assert node_class(FLAVOR="elasticsearch") is Urllib3HttpNode
    assert node_class(NODE_CLASS="search.transport.CompatibleJsonNode") is CompatibleJsonNode


@pytest.mark.django_db
@pytest.mark.search_engine
@pytest.mark.skipif(not HAVE_OSMEM, reason="osmem-server not installed")
def test_wagtail_elasticsearch8_backend_works_with_the_transport_node(osmem_clone, portal):
    from wagtail.search.backends import get_search_backend

    from kb.models import PortalItemPage
    from kb.tests.factories import make_item
    from search.transport import CompatibleJsonNode

    item = make_item(key="w", title="Walrus manual")
    backend = get_search_backend(
        "default",
        BACKEND="wagtail.search.backends.elasticsearch8",
        URLS=[osmem_clone.url],
        INDEX="admin-test",
        OPTIONS={"node_class": CompatibleJsonNode},
    )
    index = backend.get_index_for_model(PortalItemPage)
    index.reset()
    index.add_model(PortalItemPage)
    index.add_items(PortalItemPage, [PortalItemPage.objects.get(pk=item.pk)])
    index.refresh()
    results = list(backend.search("walrus", PortalItemPage))
    assert [r.pk for r in results] == [item.pk]


@pytest.mark.django_db
@pytest.mark.search_engine
@pytest.mark.skipif(not HAVE_OSMEM, reason="osmem-server not installed")
def test_the_admin_backend_reaches_osmem_through_the_flavor(osmem_clone, portal):
    # What the settings configure with PORTAL_SEARCH_URL: search.wagtail_elasticsearch, whose
    # transport follows PORTAL_SEARCH_FLAVOR ("opensearch" in the test settings).
    from wagtail.search.backends import get_search_backend

    from kb.models import PortalItemPage
    from kb.tests.factories import make_item

    item = make_item(key="w", title="Walrus manual")
    backend = get_search_backend(
        "default",
        BACKEND="search.wagtail_elasticsearch",
        URLS=[osmem_clone.url],
        INDEX="admin-flavor-test",
    )
    index = backend.get_index_for_model(PortalItemPage)
    index.reset()
    index.add_model(PortalItemPage)
    index.add_items(PortalItemPage, [PortalItemPage.objects.get(pk=item.pk)])
    index.refresh()
    assert [r.pk for r in backend.search("walrus", PortalItemPage)] == [item.pk]
