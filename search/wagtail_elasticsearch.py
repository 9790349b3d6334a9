"""Wagtail's own (admin) Elasticsearch 8 backend, on the transport ``PORTAL_SEARCH_FLAVOR``
selects (search/transport.py): the editors' searches reach the same engine as the portal's."""

from __future__ import annotations

from django.conf import settings
from modelsearch.backends.elasticsearch8 import Elasticsearch8SearchBackend

from .transport import node_class_for


class SearchBackend(Elasticsearch8SearchBackend):
    """``FLAVOR`` (optional parameter): the engine's kind; default ``PORTAL_SEARCH_FLAVOR``."""

    def __init__(self, params):
        params = dict(params)
        flavor = params.pop("FLAVOR", None) or settings.PORTAL_SEARCH_FLAVOR
        params["OPTIONS"] = {"node_class": node_class_for(flavor), **params.get("OPTIONS", {})}
        super().__init__(params)
