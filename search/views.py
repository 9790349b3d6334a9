"""The portal search page (works without JavaScript) and the JSON suggest endpoint."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .selectors import portal_search, portal_suggest


@require_safe
def search(request):
    result = portal_search(user=request.user, params=request.GET, request=request)
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "search/search.html",
        {"search": result, "query_string": keep.urlencode()},
    )


@require_safe
def suggest(request):
    suggestions = portal_suggest(user=request.user, prefix=request.GET.get("q", ""))
    response = JsonResponse({"suggestions": suggestions})
    response["Cache-Control"] = "private, no-store"
    return response
