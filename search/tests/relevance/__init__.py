"""The judged query set (``judged.json``) and nDCG@k, shared by the relevance test
(``search/tests/test_relevance.py``) and ``bench/relevance.py``.

Each query runs through ``search.selectors.portal_search`` as a demo user (the search page's
defaults: the user's content language and the source language), on whichever backend
``PORTAL_SEARCH_BACKENDS`` names, and the result lines are mapped back to bundle keys by URL.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

JUDGED = Path(__file__).with_name("judged.json")


@dataclass
class Judged:
    query: str
    user: str  # a demo login (e-mail)
    language: str  # the user's UI language (informative: the user's own setting applies)
    relevant: dict[str, int]  # bundle key -> grade (3 exact, 2 clearly about it, 1 related)
    note: str = ""


@dataclass
class Outcome:
    judged: Judged
    keys: list[str]  # the result lines' bundle keys, in order (top k)
    ndcg: float
    corrected: str = ""


def load() -> tuple[list[Judged], int, float]:
    """The judged queries, k and the goal."""
    data = json.loads(JUDGED.read_text(encoding="utf-8"))
    queries = [
        Judged(
            query=q["query"],
            user=q["user"],
            language=q["language"],
            relevant=dict(q["relevant"]),
            note=q.get("note", ""),
        )
        for q in data["queries"]
    ]
    return queries, int(data["k"]), float(data["goal"])


def dcg(grades: list[int]) -> float:
    """Discounted cumulative gain with exponential gain (2^grade - 1)."""
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg(keys: list[str], relevant: dict[str, int], k: int) -> float:
    """nDCG@k of the ranked ``keys`` against the graded ``relevant`` items."""
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if not ideal:
        return 1.0
    return dcg([relevant.get(key, 0) for key in keys[:k]]) / ideal


def url_keys() -> dict[str, str]:
    """Result URL -> bundle key, for every live item with a key."""
    from kb.models import ItemKey

    out = {}
    for item_key in ItemKey.objects.select_related("page"):
        page = item_key.page
        if page is not None and page.live:
            url = page.get_url()
            if url:
                out[url] = item_key.key
    return out


def run(judged: Judged, k: int, urls: dict[str, str]) -> Outcome:
    """``judged``'s query as its user, through the configured backend: the top k and nDCG@k."""
    from django.contrib.auth import get_user_model
    from django.http import QueryDict
    from django.utils import translation

    from search.selectors import portal_search

    user = get_user_model().objects.get(email=judged.user)
    params = QueryDict(mutable=True)
    params["q"] = judged.query
    with translation.override(user.preferred_language or judged.language):
        page = portal_search(user=user, params=params, page_size=k)
    keys = [urls.get(item.url, item.url) for item in page.results]
    corrected = getattr(page, "corrected_query", "")  # (bench: also runs on older code)
    return Outcome(judged, keys, ndcg(keys, judged.relevant, k), corrected)


def unseen_judgements(judged: Judged) -> list[str]:
    """Judged items the user may not see or that are not in their default languages (a
    judged set naming them would reward a leak)."""
    from django.contrib.auth import get_user_model

    from kb.models import ItemKey, PortalItemPage
    from search.selectors import default_languages

    user = get_user_model().objects.get(email=judged.user)
    ids = dict(ItemKey.objects.filter(key__in=judged.relevant).values_list("key", "page_id"))
    visible = set(
        PortalItemPage.objects.live()
        .visible_to(user)
        .filter(pk__in=ids.values(), locale__language_code__in=default_languages(user))
        .values_list("pk", flat=True)
    )
    return sorted(key for key in judged.relevant if ids.get(key) not in visible)


def table(outcomes: list[Outcome], title: str) -> str:
    """The per-query table (Markdown) and the mean."""
    lines = [
        f"#### {title}",
        "",
        "| query | user | nDCG@10 | top 3 |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        q = o.judged.query + (f" → {o.corrected}" if o.corrected else "")
        top = ", ".join(k.removeprefix("demo-") for k in o.keys[:3])
        lines.append(f"| {q} | {o.judged.user.split('@')[0]} | {o.ndcg:.3f} | {top} |")
    lines.append(f"| **mean** | | **{mean(outcomes):.3f}** | |")
    return "\n".join(lines)


def mean(outcomes: list[Outcome]) -> float:
    return sum(o.ndcg for o in outcomes) / len(outcomes) if outcomes else 0.0
