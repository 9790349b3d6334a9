"""The term vocabulary: typo expansion and the match estimate the SQLite backend plans with."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from permissions.policies.search import SearchFilter
from search.fuzzy import Vocabulary


def test_expansion_finds_close_terms_only():
    vocabulary = Vocabulary(["installation", "install", "guide", "glide", "router"])
    assert vocabulary.expand("instalation")[0] == "instalation"
    assert "installation" in vocabulary.expand("instalation")
    assert "router" not in vocabulary.expand("gide")


def test_estimate_takes_terms_as_independent():
    counts = {"firewall": 400, "firewal": 100, "configuration": 250, "release": 100, "notes": 50}
    vocabulary = Vocabulary(counts, counts, documents=1000)
    # (firewall OR firewal) AND configuration: 1000 × 0.5 × 0.25
    assert vocabulary.estimate([["firewall", "firewal"], ["configuration"]], []) == 125
    # a phrase matches at most as often as its rarest word
    assert vocabulary.estimate([], [["release", "notes"]]) == 50
    assert vocabulary.estimate([["unknown"]], []) == 0
    assert Vocabulary(counts).estimate([["firewall"]], []) is None  # no counts, no estimate


@given(
    st.dictionaries(st.from_regex(r"[a-z]{3,6}", fullmatch=True), st.integers(0, 500), min_size=1),
    st.data(),
)
def test_estimate_never_exceeds_the_rarest_group(counts, data):
    vocabulary = Vocabulary(counts, counts, documents=500)
    terms = sorted(counts)
    groups = data.draw(st.lists(st.lists(st.sampled_from(terms), min_size=1), min_size=1))
    estimate = vocabulary.estimate(groups, [])
    assert 0 <= estimate <= min(min(500, sum(counts[t] for t in g)) for g in groups) + 1e-6


@pytest.mark.django_db
def test_the_vocabulary_table_follows_rebuilds_and_single_writes(portal):
    from kb.tests.factories import make_item
    from search.backends.base import SearchQuery
    from search.backends.database import SearchBackend
    from search.documents import iter_documents
    from search.models import SearchTerm

    staff = SearchFilter(scope="all")
    first = make_item(key="walrus", title="Walrus installation guide")
    backend = SearchBackend({})
    backend.rebuild(iter_documents())
    counts = dict(SearchTerm.objects.values_list("term", "documents"))
    assert counts["walrus"] == 1 and counts["installation"] >= 1
    assert backend.search(SearchQuery("walrsu instalation", staff)).ids == [first.pk]
    # a single write adds its words; the next search in this process sees them
    second = make_item(key="narwhal", title="Narwhal handbook")
    backend.bulk(d for d in iter_documents() if d.id == second.pk)
    assert SearchTerm.objects.filter(term="narwhal").exists()
    assert backend.search(SearchQuery("narwhall", staff)).ids == [second.pk]


def test_swapped_letters_are_one_edit():
    from search.fuzzy import levenshtein

    assert levenshtein("ruoter", "router", 2) == 1
    assert levenshtein("abc", "abc", 1) == 0
    assert levenshtein("kitten", "sitting", 3) == 3
    assert levenshtein("abcdef", "uvwxyz", 2) == 3  # stops beyond the limit


def test_expansion_prefers_closer_then_commoner_words():
    counts = {"router": 50, "quotes": 2, "routes": 5}
    vocabulary = Vocabulary(counts, counts, documents=100)
    assert vocabulary.expand("ruoter")[1] == "router"  # one edit (a swap); the others two


def test_compound_parts():
    counts = {"datenblatt": 3, "blattgold": 1, "sicherheitsrichtlinien": 2, "blatt": 1, "ab": 1}
    vocabulary = Vocabulary(counts, counts, documents=10)
    assert vocabulary.compounds("blatt") == ["datenblatt"]  # the last part only
    assert vocabulary.compounds("richtlinien") == ["sicherheitsrichtlinien"]
    assert vocabulary.compounds("sicherheit") == []  # a first part: not matched
    more = {"datenblatt": 1, "deckblatt": 4, "blatt": 1}
    assert Vocabulary(more, more, 5).compounds("blatt") == ["deckblatt", "datenblatt"]
    assert vocabulary.compounds("blat") == []  # too short to be a part
    assert vocabulary.compounds("datenblat") == []  # no part of a word: typos are expand()'s
