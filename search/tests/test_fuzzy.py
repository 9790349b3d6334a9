"""The term vocabulary: typo expansion and the match estimate the SQLite backend plans with."""

from hypothesis import given
from hypothesis import strategies as st

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
