"""A transport node that speaks plain JSON (no Django imports: settings import this).

elasticsearch-py 8 sends ``application/vnd.elasticsearch+json; compatible-with=8`` (and
``+x-ndjson`` for bulk); OpenSearch-compatible servers (osmem-server in tests, OpenSearch in
production) answer 406 to it. Elasticsearch 8 accepts plain ``application/json`` as well, so
rewriting is safe against a real cluster too.
"""

from __future__ import annotations

from elastic_transport import Urllib3HttpNode


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
