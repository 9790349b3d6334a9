"""Query text: words (normalised like the tokenizers), "phrases", and the typo budget."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from search.query import max_edits, normalise, parse_query, words


def test_words_are_lower_case_without_diacritics():
    assert normalise("Übersicht") == "ubersicht"
    assert words("Příručka  k  INSTALACI, v2!") == ["prirucka", "k", "instalaci", "v2"]


@given(st.text(max_size=20) | st.text(alphabet=st.characters(max_codepoint=127), max_size=20))
def test_the_ascii_shortcut_normalises_as_the_full_rule(word):
    """``normalise`` skips decomposing ASCII words (capacity, issue #16): same answer."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    assert normalise(word) == "".join(c for c in decomposed if not unicodedata.combining(c))


def test_quoted_parts_are_phrases_and_the_rest_terms():
    parsed = parse_query('router "release notes" firmware ""')
    assert parsed.terms == ["router", "firmware"]
    assert parsed.phrases == [["release", "notes"]]
    assert parsed.words == {"router", "firmware", "release", "notes"}
    assert parse_query('  "" ').empty


def test_a_query_is_bounded():
    parsed = parse_query(" ".join(f"w{i}" for i in range(30)) + ' "a" "b" "c" "d" "e"')
    assert len(parsed.terms) == 12 and len(parsed.phrases) == 4


def test_the_typo_budget_is_elasticsearchs_auto():
    assert [max_edits(t) for t in ("ab", "abc", "abcde", "abcdef")] == [0, 1, 1, 2]
