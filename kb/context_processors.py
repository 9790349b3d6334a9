"""Template context for every portal page: the header navigation (kb/includes/site_nav.html)."""

from __future__ import annotations

from collections.abc import Callable

from .navigation import PortalNav


def portal_nav(request) -> dict[str, Callable[[], PortalNav]]:
    """``portal_nav``: the signed-in user's navigation (kb.navigation.portal_nav), computed only
    when a template reads it, once per response, in the language active there (the UI's)."""
    memo: list[PortalNav] = []

    def nav() -> PortalNav:
        if not memo:
            from .navigation import portal_nav as build

            memo.append(build(user=getattr(request, "user", None)))
        return memo[0]

    return {"portal_nav": nav}
