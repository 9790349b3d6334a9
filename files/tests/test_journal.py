"""The import journal (files/journal.py): the next import and the orphan sweep settle a dead
import's journal at once; a running import's files are left alone; an import leaves no journal."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from files.journal import ImportJournal, journal_dir
from files.tests.factories import make_pdf_bytes
from kb.services import StoredFiles, document_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def journals(settings, tmp_path):
    settings.PORTAL_IMPORT_JOURNAL_DIR = tmp_path / "journal"
    return settings.PORTAL_IMPORT_JOURNAL_DIR


def _stored(name: str, *, hours_old: float = 0) -> str:
    name = default_storage.save(name, ContentFile(b"%PDF-1.4 orphan\n"))
    if hours_old:
        then = time.time() - hours_old * 3600
        os.utime(default_storage.path(name), (then, then))
    return name


def _dead_journal(*names: str) -> Path:
    """A journal as a SIGKILLed import leaves it: written, fsync'd, and its lock released."""
    journal = ImportJournal.open()
    for name in names:
        journal.record(name)
    journal.abandon()
    return journal.path


def _bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"tiers": [{"key": "gold", "name": "Gold", "rank": 2}]}))
    return path


def test_the_next_import_settles_a_dead_journal(portal, tmp_path):
    orphan = _stored("documents/killed-import.pdf")
    kept = document_create(name="kept.pdf", content=make_pdf_bytes("kept"))
    path = _dead_journal(orphan, kept.file.name, "documents/never-written.pdf")

    call_command("import_bundle", str(_bundle(tmp_path)), stdout=io.StringIO())

    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept.file.name)  # a row references it: never removed
    assert not path.exists()
    assert list(journal_dir().iterdir()) == []


def test_the_sweep_settles_dead_journals_at_once_and_leaves_running_imports_alone(portal):
    young_orphan = _stored("documents/killed-young.pdf")  # well inside the 60-minute grace
    running_old = _stored("documents/running-old.pdf", hours_old=3)  # well past it
    dead = _dead_journal(young_orphan)
    running = ImportJournal.open()  # held (locked) like a living import's
    running.record(running_old)
    try:
        out = io.StringIO()
        call_command("storage_orphans", "--delete", stdout=out)
        report = out.getvalue()
        assert f"DELETED (interrupted import) {young_orphan}" in report
        assert f"ORPHAN (import still running, kept) {running_old}" in report
        assert not default_storage.exists(young_orphan)
        assert default_storage.exists(running_old)
        assert not dead.exists() and running.path.exists()
    finally:
        running.settle()
    assert not default_storage.exists(running_old)  # its import ended: unreferenced, deleted


def test_the_report_alone_settles_nothing(portal):
    orphan = _stored("documents/killed-report.pdf")
    dead = _dead_journal(orphan)
    call_command("storage_orphans", stdout=io.StringIO())
    assert default_storage.exists(orphan) and dead.exists()


def test_an_import_records_its_files_before_writing_them_and_leaves_no_journal(
    portal, tmp_path, monkeypatch
):
    seen: list[tuple[str, bool]] = []
    original = ImportJournal.record

    def record(self, name):
        original(self, name)
        # Recorded (and fsync'd) while the file does not exist yet.
        seen.append((name, default_storage.exists(name)))

    monkeypatch.setattr(ImportJournal, "record", record)
    stored = StoredFiles(journal=ImportJournal.open())
    document = document_create(name="a.pdf", content=make_pdf_bytes("a"), stored=stored)
    assert seen == [(document.file.name, False)]
    assert stored.journal.path.read_text().count(document.file.name) == 1
    result = stored.journal.settle()
    assert result.kept == [document.file.name] and result.deleted == []
    assert list(journal_dir().iterdir()) == []


def test_a_journal_is_locked_before_a_recovery_can_see_it(portal):
    # A process that died while opening its journal leaves an empty "*.opening" file, which a
    # recovery removes; a journal is visible under its real name only once it is locked.
    journal_dir().mkdir(parents=True, exist_ok=True)
    stale = journal_dir() / "0123.opening"
    stale.write_text("")
    running = ImportJournal.open()
    try:
        call_command("storage_orphans", "--delete", stdout=io.StringIO())
        assert not stale.exists()
        assert running.path.exists()  # locked: a living import's journal is left alone
    finally:
        running.settle()
