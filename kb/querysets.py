"""Querysets for portal pages: visibility is delegated to permissions.policies."""

from __future__ import annotations

from wagtail.models import PageManager
from wagtail.query import PageQuerySet


class PortalPageQuerySet(PageQuerySet):
    def visible_to(self, user) -> PortalPageQuerySet:
        """Only the pages ``user`` may see (live, audience, grants, exceptions, suspension)."""
        from permissions.policies.pages import page_policy

        return page_policy.filter_visible(user, self)


PortalPageManager = PageManager.from_queryset(PortalPageQuerySet)
