"""The portal search page (works without JavaScript) and the JSON suggest endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from permissions.policies.principal import principal_for

from .selectors import FacetValue, SearchPage, language_label, portal_search, portal_suggest

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse, QueryDict
    from django_stubs_ext import StrOrPromise

# Facet name (search.fields.FACETS) -> the GET parameter that filters on it, and the heading.
FACET_PARAMS: dict[str, str] = {
    "kind": "type",
    "product": "product",
    "locale": "language",
    "tags": "tag",
}
FACET_TITLES: dict[str, StrOrPromise] = {
    "kind": _("Content type"),
    "product": _("Product"),
    "locale": _("Language"),
    "tags": _("Tags"),
}
# Tags: the most frequent are shown, the rest folded under "More tags" (the demo's queries
# return 30+ tags, which pushed the first result far down a phone's screen).
TAGS_SHOWN = 8

# What the page says to someone whose search can find no partner content, by the principal's
# kind as the policy resolves it (the same words as the home for a suspended organisation).
ACCESS_STATES = ("suspended", "anonymous", "unaffiliated")


@dataclass
class FacetLink:
    """One facet value as the page shows it: its label, count and the URL that applies it."""

    label: StrOrPromise
    count: int
    selected: bool
    href: str


@dataclass
class FacetGroup:
    """One collapsible facet (``<details class="facet">``): the values shown, and (tags) the
    ones folded under "more"."""

    name: str
    title: StrOrPromise
    shown: list[FacetLink] = field(default_factory=list)
    more: list[FacetLink] = field(default_factory=list)
    open: bool = True


def _facet_href(params: QueryDict, param: str, value: str) -> str:
    """The query string of the current search with ``param`` set to ``value``: other filters
    and the sort are kept, the page starts again at 1."""
    keep = params.copy()
    keep.pop("page", None)
    keep.setlist(param, [value])
    return "?" + keep.urlencode()


def facet_groups(result: SearchPage, params: QueryDict) -> list[FacetGroup]:
    """The page's facets as collapsible groups, in the order of ``FACET_PARAMS``."""
    groups = []
    for name, param in FACET_PARAMS.items():
        values: list[FacetValue] = result.facets.get(name) or []
        if not values:
            continue
        links = [
            FacetLink(v.label, v.count, v.selected, _facet_href(params, param, v.value))
            for v in values
        ]
        group = FacetGroup(name=name, title=FACET_TITLES[name], shown=links)
        if name == "tags" and len(links) > TAGS_SHOWN:
            # The most frequent tags and every selected one stay in view; the rest fold.
            group.shown = [link for n, link in enumerate(links) if n < TAGS_SHOWN or link.selected]
            group.more = [
                link for n, link in enumerate(links) if n >= TAGS_SHOWN and not link.selected
            ]
        groups.append(group)
    return groups


def access_state(user) -> str:
    """Why this user's search can find nothing (or only public items): "suspended",
    "anonymous" or "unaffiliated" as the permission policy resolves the user; "" otherwise."""
    kind = principal_for(user).kind
    return kind if kind in ACCESS_STATES else ""


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The search page: results first, then the facets (a phone shows a result at once)."""
    result = portal_search(user=request.user, params=request.GET, request=request)
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "search/search.html",
        {
            "search": result,
            "query_string": keep.urlencode(),
            # Each result line with its language's name in the UI language.
            "results": [(r, language_label(r.language)) for r in result.results],
            "facet_groups": facet_groups(result, request.GET),
            "access_state": access_state(request.user),
        },
    )


@require_safe
def suggest(request: HttpRequest) -> JsonResponse:
    """Titles for as-you-type completion, as JSON (``portal_suggest``: policy-filtered)."""
    suggestions = portal_suggest(user=request.user, prefix=request.GET.get("q", ""))
    response = JsonResponse({"suggestions": suggestions})
    response["Cache-Control"] = "private, no-store"
    return response
