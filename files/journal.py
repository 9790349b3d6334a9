"""The import journal: the storage names an import may leave unreferenced, on disk before the store.

An import writes files to storage (local media or S3 buckets) inside a database transaction that
may still roll back, and a process can be killed at any moment. Before each file is written (and
before a row stops referencing an old file) its storage name is appended to the import's journal
and the journal is fsync'd. Whatever then happens, one rule settles a journal: **a name that a
row references is kept, any other name is deleted** (``journal_settle``). After a commit every
new file is referenced (kept) and every replaced file is not (deleted); after a rollback it is
the other way round; after a kill the database is in one of those two states and the same rule
gives the right answer without knowing which.

Who settles:

- the import itself, when it ends (committed, failed, or stopped by SIGTERM/SIGINT);
- after a SIGKILL (or a power cut), the next ``import_bundle`` run and ``storage_orphans``
  (``journal_recover``), at once: each journal is locked (``flock``) by its living import, so a
  journal whose lock can be taken belongs to a dead process. The kernel drops the lock when the
  process dies, however it dies.

Why a journal and not staging names renamed after the commit: on S3 a "rename" is a copy and a
delete (costly for large files, and a second failure window after the commit), and rows would
point at names that do not exist yet. The journal costs one small local append and fsync per
file and nothing on the store. It lives in ``PORTAL_IMPORT_JOURNAL_DIR``, a local folder of the
host that runs imports: the recovery must run on the same host (or the folder be shared),
otherwise another host's ``storage_orphans`` falls back to its ``--min-age`` grace.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, models

logger = logging.getLogger("portal.imports")

SUFFIX = ".journal"
# How long a recovery waits for a dead import's PostgreSQL session to end (its transaction to
# roll back, or a COMMIT already sent to finish) before deciding which names are referenced.
SESSION_WAIT_SECONDS = 10.0


def journal_dir() -> Path:
    return Path(settings.PORTAL_IMPORT_JOURNAL_DIR)


def _fsync_dir(path: Path) -> None:
    # A new or removed directory entry is durable only once the directory itself is synced.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _database_session() -> int | None:
    """The PostgreSQL backend pid of this process's connection (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    return None if row is None else int(row[0])


class ImportJournal:
    """One import's journal file, locked for as long as the import lives.

    Use ``ImportJournal.open()``, ``record(name)`` before touching ``name`` in storage, and
    ``settle()`` when the import is over (it deletes the unreferenced names and the journal).
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd
        self.names: list[str] = []
        self.closed = False

    @classmethod
    def open(cls) -> ImportJournal:
        folder = journal_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        # Locked under a name recoveries do not look at, then renamed: a recovery never sees
        # a journal whose lock is not taken yet (it would take it for a dead one).
        opening = folder / f"{name}.opening"
        fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = folder / f"{name}{SUFFIX}"
        journal = cls(path, fd)
        journal._append(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.time(),
                "db_session": _database_session(),
            }
        )
        os.rename(opening, path)  # the lock belongs to the file, not to its name
        _fsync_dir(folder)
        return journal

    def _append(self, entry: dict[str, object]) -> None:
        os.write(self._fd, (json.dumps(entry) + "\n").encode())
        os.fsync(self._fd)

    def record(self, name: str) -> None:
        """Make ``name`` durable in the journal; call before writing (or unreferencing) it."""
        if name in self.names:
            return
        self._append({"name": name})
        self.names.append(name)

    def settle(self) -> Settled:
        """Delete the journal's unreferenced names from storage, then the journal itself.

        If the database cannot be asked, nothing is deleted and the journal stays for
        ``journal_recover`` (a name is only ever deleted when no row was seen to reference it).
        """
        if self.closed:
            return Settled(path=self.path)
        result = journal_settle(self.names, path=self.path)
        self._remove()
        return result

    def abandon(self) -> None:
        """Release the lock but keep the journal (the next recovery settles it)."""
        if not self.closed:
            self.closed = True
            os.close(self._fd)

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)
        self.abandon()


@dataclass
class Settled:
    path: Path
    kept: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def referenced(names: Iterable[str]) -> set[str]:
    """The subset of ``names`` that some row's FileField points at."""
    names = list(dict.fromkeys(names))
    found: set[str] = set()
    if not names:
        return found
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if not isinstance(model_field, models.FileField):
                continue
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                found.update(
                    model._default_manager.filter(**{f"{model_field.name}__in": chunk}).values_list(
                        model_field.name, flat=True
                    )
                )
    return found


def journal_settle(names: Iterable[str], *, path: Path | None = None) -> Settled:
    """Keep the referenced ``names``, delete the others from storage (missing ones are fine).

    Raises:
        DatabaseError: the database could not be asked; nothing was deleted.
    """
    from django.core.files.storage import default_storage

    names = list(dict.fromkeys(names))
    keep = referenced(names)
    result = Settled(path=path or Path())
    for name in names:
        if name in keep:
            result.kept.append(name)
            continue
        default_storage.delete(name)
        result.deleted.append(name)
    return result


def _read(path: Path) -> tuple[dict[str, Any], list[str]]:
    header: dict[str, Any] = {}
    names: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the last line of a journal killed mid-append: its file was not written
        if "name" in entry:
            names.append(entry["name"])
        elif not header:
            header = entry
    return header, names


def _session_alive(session: int | None) -> bool:
    if session is None or connection.vendor != "postgresql":
        return False
    if session == _database_session():
        return False  # this process's own session: the journal's import is over (we hold it)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [session])
        return cursor.fetchone() is not None


def _wait_for_session(session: int | None) -> bool:
    # A killed client's server session ends when the server notices the closed socket, which
    # is almost at once; until then it may still finish a COMMIT the client had sent.
    deadline = time.monotonic() + SESSION_WAIT_SECONDS
    while _session_alive(session):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def live_journal_names() -> set[str]:
    """Names in the journals of imports that are still running (their files may be young or
    old; the orphan sweep must leave them to their import)."""
    names: set[str] = set()
    for path, fd in _journals(lock=False):
        if fd is None:
            names.update(_read(path)[1])
    return names


def _journals(*, lock: bool) -> Iterator[tuple[Path, int | None]]:
    """Each journal file with an fd holding its lock, or None when a living import holds it."""
    folder = journal_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # settled meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            yield path, None
            continue
        try:
            if not lock:
                fcntl.flock(fd, fcntl.LOCK_UN)
            yield path, fd
        finally:
            os.close(fd)


def journal_recover() -> list[Settled]:
    """Settle the journals of imports that died (their lock is free); skip living ones.

    Returns what was kept and deleted per journal. A journal whose database session is still
    open after ``SESSION_WAIT_SECONDS``, or whose database cannot be asked, is left for the next
    recovery.
    """
    results = []
    for stale in journal_dir().glob("*.opening") if journal_dir().is_dir() else ():
        # A process that died while opening its journal: it had written nothing yet.
        try:
            fd = os.open(stale, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            stale.unlink(missing_ok=True)
        except BlockingIOError:
            pass  # being opened right now
        finally:
            os.close(fd)
    for path, lock in _journals(lock=True):
        if lock is None:
            continue
        header, names = _read(path)
        if not _wait_for_session(header.get("db_session")):
            logger.warning("import journal %s: its database session is still open", path.name)
            continue
        try:
            result = journal_settle(names, path=path)
        except DatabaseError:
            logger.exception("import journal %s: could not check references; kept", path.name)
            continue
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        if result.deleted or result.kept:
            logger.info(
                "import journal %s (pid %s): %s files deleted, %s kept",
                path.name,
                header.get("pid"),
                len(result.deleted),
                len(result.kept),
            )
        results.append(result)
    return results
