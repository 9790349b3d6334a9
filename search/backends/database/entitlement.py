"""The shared entitlement part of the database backend (both engines): the index's copy of each
item's audience, and the asker's filter over it. Both are the policy's
(``permissions.policies.search``): this module only puts them on the entry rows.

The asker arrives as ``SearchFilter`` and each item's audience as ``SearchAudience``;
``SearchAudience.visible_to`` is the same rule in Python, and search/tests/test_no_leak.py proves
on random worlds that the backend returns exactly what the pages' queryset filter lets through.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q

from permissions.policies.search import SearchFilter, search_index_q

from ...documents import SearchDocument
from ...models import SearchChainNode


def audience_columns(doc: SearchDocument) -> dict:
    """The SearchEntry columns that carry ``doc``'s audience."""
    return doc.audience.index_fields()


def chain_nodes(docs: list[SearchDocument]) -> list[SearchChainNode]:
    """The chain rows of the items that carry a grant somewhere on their chain (only grant
    holders are checked node by node)."""
    return [
        SearchChainNode(entry_id=doc.id, **node.index_fields())
        for doc in docs
        if doc.audience.granted_org_ids
        for node in doc.audience.chain
    ]


def entitlement_q(flt: SearchFilter) -> Q:
    """``flt`` as a filter on SearchEntry rows."""
    return search_index_q(flt, chain=SearchChainNode.objects.filter(entry_id=OuterRef("pk")))
