"""Run as a subprocess by imports/tests/test_import_kill.py against the database in DATABASE_URL.

``python imports/tests/import_probe.py state [sweep] [drain]`` prints one JSON object: the
import state (item keys, documents, files on disk, journals, live and indexed items, outbox
rows) "before",
then runs the real orphan sweep (``storage_orphans --delete``, default grace) and/or the outbox
drain (``drain_search_outbox``), and prints the state "after".

``python imports/tests/import_probe.py logins STOPFILE EMAIL PASSWORD`` creates the user, touches
STOPFILE.ready, posts the portal login form through Django's test client until STOPFILE exists,
and prints each attempt's start, duration and outcome.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal_site.settings.test")

import django  # noqa: E402

django.setup()


def state() -> dict:
    from django.conf import settings
    from wagtail.models import Page

    from files.journal import journal_dir
    from files.models import PortalDocument
    from kb.models import ItemKey
    from kb.models.pages import PortalItemPage
    from search.models import IndexOutbox, SearchEntry

    root = Path(settings.MEDIA_ROOT)
    folder = journal_dir()
    return {
        "keys": sorted(ItemKey.objects.values_list("key", flat=True)),
        "pages": Page.objects.count(),
        "documents": sorted(PortalDocument.objects.values_list("file", flat=True)),
        "files": sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()),
        "journals": sorted(p.name for p in folder.glob("*.journal")) if folder.is_dir() else [],
        "live_items": sorted(PortalItemPage.objects.live().values_list("pk", flat=True)),
        "indexed": sorted(SearchEntry.objects.values_list("pk", flat=True)),
        "outbox": IndexOutbox.objects.count(),
    }


def probe(steps: list[str]) -> dict:
    from django.core.management import call_command

    report: dict[str, object] = {"before": state()}
    if "sweep" in steps:
        out = io.StringIO()
        call_command("storage_orphans", "--delete", stdout=out)
        report["sweep"] = out.getvalue()
    if "drain" in steps:
        call_command("drain_search_outbox", stdout=io.StringIO())
    report["after"] = state()
    return report


def logins(stop: Path, email: str, password: str) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()
    if not User.objects.filter(email=email).exists():
        User.objects.create_user(email=email, password=password)
    Path(f"{stop}.ready").touch()
    attempts: list[dict[str, object]] = []
    deadline = time.monotonic() + 120
    while not stop.exists() and time.monotonic() < deadline:
        client = Client()
        started = time.time()
        try:
            response = client.post("/login/", {"username": email, "password": password})
            outcome: int | str = response.status_code
        except Exception as exc:  # noqa: BLE001 - the test reports every failure it sees
            outcome = repr(exc)
        attempts.append({"at": started, "seconds": time.time() - started, "outcome": outcome})
        time.sleep(0.05)
    return attempts


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "state":
        result: object = probe(rest)
    elif command == "logins":
        result = logins(Path(rest[0]), rest[1], rest[2])
    else:
        raise SystemExit(f"unknown probe {command!r}")
    print(json.dumps(result))  # noqa: T201
