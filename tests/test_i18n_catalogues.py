"""The shipped UI catalogues are complete: every entry translated, none fuzzy, placeholders kept."""

from __future__ import annotations

import re
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("de", "cs")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_catalogues_are_complete_and_keep_placeholders():
    problems = []
    for language in LANGUAGES:
        catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
        assert len(catalogue) > 0, f"{language}: empty catalogue"
        for entry in catalogue.untranslated_entries():
            problems.append(f"{language}: untranslated {entry.msgid!r}")
        for entry in catalogue.fuzzy_entries():
            problems.append(f"{language}: fuzzy {entry.msgid!r}")
        for entry in catalogue.translated_entries():
            expected = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            for msgstr in translations:
                if _placeholders(msgstr) != expected:
                    problems.append(
                        f"{language}: placeholders {sorted(_placeholders(msgstr))} in {msgstr!r}"
                        f" != {sorted(expected)} in {entry.msgid!r}"
                    )
    assert not problems, "\n".join(problems)
