"""Admin search: Wagtail's own backend is elasticsearch8 when the engine address is set."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from search.tests.conftest import HAVE_OSMEM


def _settings_with(env: dict) -> dict:
    code = (
        "import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'portal_site.settings.test'); from django.conf import settings; "
        "print(json.dumps({'admin': settings.WAGTAILSEARCH_BACKENDS['default']['BACKEND'], "
        "'portal': settings.PORTAL_SEARCH_BACKENDS['default']['BACKEND']}))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_backends_follow_the_engine_address(monkeypatch):
    import os

    base = {k: v for k, v in os.environ.items() if k != "PORTAL_SEARCH_URL"}
    assert _settings_with(base) == {
        "admin": "search.wagtail_backend",
        "portal": "search.backends.database",
    }
    assert _settings_with({**base, "PORTAL_SEARCH_URL": "http://127.0.0.1:9200"}) == {
        "admin": "wagtail.search.backends.elasticsearch8",
        "portal": "search.backends.elasticsearch",
    }


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
