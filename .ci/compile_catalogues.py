"""Compile the UI catalogues (locale/*/LC_MESSAGES/django.po -> .mo) with polib.

`make messages` (part of `make install`) uses Django's ``compilemessages`` when GNU gettext's
``msgfmt`` is installed and this script otherwise, so a fresh machine needs nothing but Python.
Like msgfmt, it leaves fuzzy and untranslated entries out and rewrites only the catalogues whose
.po is newer than their .mo. Run with the project's venv: ``.venv/bin/python
.ci/compile_catalogues.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    for po in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        # polib writes the translated entries only (not fuzzy, not untranslated), as msgfmt does.
        polib.pofile(str(po)).save_as_mofile(str(mo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
