"""The database backend's Python highlighter (SQLite): marks what the tokenizer would match."""

from hypothesis import given
from hypothesis import strategies as st

from search.highlight import MARK_END, MARK_START, Highlighter


def test_marks_whole_words_case_and_diacritics_insensitively():
    h = Highlighter({"uplink", "gerats"})
    assert h.mark("Configure the Uplink.") == f"Configure the {MARK_START}Uplink{MARK_END}."
    assert h.mark("uplinks and downlink") == "uplinks and downlink"  # whole words only
    assert h.mark("Montage des Geräts") == f"Montage des {MARK_START}Geräts{MARK_END}"
    assert h.mark("") == ""


def test_snippet_is_the_densest_window_and_says_where_it_was_cut():
    h = Highlighter({"quick", "setup"})
    text = "filler " * 60 + "the quick setup guide " + "tail " * 60
    snippet = h.snippet(text)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert f"{MARK_START}quick{MARK_END} {MARK_START}setup{MARK_END}" in snippet
    assert len(snippet) < 260
    assert h.snippet("nothing to see") == ""


TEXT = st.text(st.characters(blacklist_characters=MARK_START + MARK_END), max_size=400)


@given(TEXT, st.sets(st.from_regex(r"[a-z]{2,8}", fullmatch=True), max_size=5))
def test_marking_never_changes_the_text(text, terms):
    h = Highlighter(terms or {"zz"})
    assert h.mark(text).replace(MARK_START, "").replace(MARK_END, "") == text
    snippet = h.snippet(text).replace(MARK_START, "").replace(MARK_END, "").strip("…")
    assert snippet in text


ASCII_TEXT = st.text(st.sampled_from("abcxyz_09 .-ABC"), max_size=300)


TERMS = st.sets(st.from_regex(r"[a-c0-9_]{1,4}", fullmatch=True), min_size=1, max_size=4)


@given(ASCII_TEXT, TERMS)
def test_the_ascii_fast_path_finds_exactly_the_whole_words(text, terms):
    # The fast path checks word starts per match instead of a leading \b; it must agree with
    # the word-by-word comparison the index's tokenizer amounts to.
    from search.query import WORD as _WORD

    h = Highlighter(terms)
    expected = [(m.start(), m.end()) for m in _WORD.finditer(text) if m.group(0).lower() in terms]
    assert [(start, end) for start, end, _w in h._matches(text)] == expected
