"""Query text: words (normalised like the tokenizers), "phrases", and the typo budget."""

from __future__ import annotations

from search.query import max_edits, normalise, parse_query, words


def test_words_are_lower_case_without_diacritics():
    assert normalise("Übersicht") == "ubersicht"
    assert words("Příručka  k  INSTALACI, v2!") == ["prirucka", "k", "instalaci", "v2"]


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
