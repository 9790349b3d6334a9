"""The shipped UI catalogues are complete and current.

* complete: every entry of every catalogue of settings.LANGUAGES (but English, the source)
  translated, none fuzzy, placeholders kept;
* current: each catalogue holds exactly the messages the source marks today. The source's
  messages are extracted by Django's own ``makemessages`` (the command translators run) into a
  scratch folder, so a string marked in a template or module and never merged into the catalogues
  fails here, and so does a catalogue entry whose string is gone from the source.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils.translation import to_locale

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")
# Never scanned for messages: not source (the catalogues, the virtualenv, collected static files,
# media, benchmarks) or not the portal's.
NOT_SOURCE = {".venv", ".git", "locale", "media", "static", "var", "bench", "node_modules"}


def _languages() -> list[str]:
    """The translated UI languages as catalogue folder names (pt-br -> pt_BR)."""
    return [to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]


def _catalogue(language: str) -> polib.POFile:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{language}: no catalogue at {path.relative_to(ROOT)}"
    return polib.pofile(str(path))


def _key(entry: polib.POEntry) -> tuple[str | None, str, str | None]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or None)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_every_ui_language_has_a_catalogue():
    assert sorted(_languages()) == sorted(
        ["de", "fr", "es", "it", "pt_BR", "cs", "pl", "ja", "zh_Hans", "ar"]
    )
    for language in _languages():
        assert len(_catalogue(language)) > 0, f"{language}: empty catalogue"


@pytest.mark.parametrize("language", _languages())
def test_catalogue_is_complete_and_keeps_placeholders(language):
    catalogue = _catalogue(language)
    problems = []
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
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> set[tuple[str | None, str, str | None]]:
    """The messages the source marks today, extracted by ``makemessages`` in a scratch folder.

    The scratch folder links to the project's source folders (no copy) and has no ``locale/`` of
    its own, so makemessages writes only there, never into the shipped catalogues.
    """
    if not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge")):
        # makemessages runs GNU gettext's tools. CI installs them (.ci/run), so only a local run
        # on a machine without gettext may skip; the completeness test above still runs.
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext, msguniq, msgmerge) is not installed")
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    scratch = tmp_path_factory.mktemp("makemessages")
    tree = scratch / "tree"
    tree.mkdir()
    for child in ROOT.iterdir():
        if child.name in NOT_SOURCE or child.name.startswith("."):
            continue
        (tree / child.name).symlink_to(child, target_is_directory=child.is_dir())
    out = scratch / "out"
    cwd = os.getcwd()
    try:
        os.chdir(tree)
        with override_settings(LOCALE_PATHS=[str(out)]):
            call_command(
                "makemessages",
                locale=["en"],
                symlinks=True,
                ignore_patterns=sorted(NOT_SOURCE),
                no_location=True,
                no_obsolete=True,
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    extracted = polib.pofile(str(out / "en" / "LC_MESSAGES" / "django.po"))
    return {_key(entry) for entry in extracted if entry.msgid}


@pytest.mark.parametrize("language", _languages())
def test_catalogue_holds_exactly_the_source_messages(language, source_messages):
    catalogue = {_key(entry) for entry in _catalogue(language) if not entry.obsolete}
    missing = sorted(source_messages - catalogue, key=str)
    stale = sorted(catalogue - source_messages, key=str)
    assert not missing and not stale, (
        f"{language}: the catalogue is out of date with the source; run "
        f"`manage.py makemessages -a --ignore=.venv` and translate.\n"
        + "".join(f"  missing: {key[1]!r}\n" for key in missing)
        + "".join(f"  no longer in the source: {key[1]!r}\n" for key in stale)
    )
