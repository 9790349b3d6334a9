"""How the Elasticsearch client talks to the engine, per ``PORTAL_SEARCH_FLAVOR``.

* ``elasticsearch`` (the default): elasticsearch-py's own transport. It sends
  ``application/vnd.elasticsearch+json; compatible-with=8`` (and ``+x-ndjson`` for bulk), as
  Elasticsearch 8 expects.
* ``opensearch``: an OpenSearch-compatible server (OpenSearch in production, osmem-server in the
  tests: the test settings select it) answers 406 to those media types;
  ``CompatibleJsonNode`` rewrites them to plain ``application/json`` / ``application/x-ndjson``.

Both the portal's backend (search/backends/elasticsearch.py) and Wagtail's admin backend
(search/wagtail_elasticsearch.py) take their node class from ``node_class_for``; settings name
only the flavour.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from elastic_transport import BaseNode, Urllib3HttpNode


class CompatibleJsonNode(Urllib3HttpNode):
    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                value = headers.get(name)
                if value and "vnd.elasticsearch+x-ndjson" in value:
                    headers[name] = "application/x-ndjson"
                elif value and "vnd.elasticsearch+json" in value:
                    headers[name] = "application/json"
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


NODE_CLASSES: dict[str, type[BaseNode]] = {
    "elasticsearch": Urllib3HttpNode,
    "opensearch": CompatibleJsonNode,
}


def node_class_for(flavor: str) -> type[BaseNode]:
    """The transport node class for ``flavor`` (a ``PORTAL_SEARCH_FLAVOR`` value)."""
    try:
        return NODE_CLASSES[flavor]
    except KeyError:
        raise ImproperlyConfigured(
            f"PORTAL_SEARCH_FLAVOR={flavor!r}: expected one of {', '.join(NODE_CLASSES)}"
        ) from None
