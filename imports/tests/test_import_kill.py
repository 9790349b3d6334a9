"""A real ``manage.py import_bundle`` subprocess killed at random moments (SIGKILL and SIGTERM), on
a database file (SQLite) or database (PostgreSQL leg) of its own, and on SQLite logins that go on
while an import runs.

After every kill: the database holds the whole bundle or nothing of it; no file is left that no
row references (SIGTERM: as soon as the process has exited; SIGKILL: once the orphan sweep with
its default 60-minute grace, or the next import, has run); no referenced file is missing; and
once the outbox drain has run, every live item is in the search index.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from files.tests.factories import make_pdf_bytes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "bundle.json"
PROBE = ROOT / "imports" / "tests" / "import_probe.py"
pytestmark = pytest.mark.django_db  # the test database is the template of every scenario's
GENERATED = 12  # items with a PDF each, on top of the example's 9: ~2 s of import on SQLite


def _bundle(path: Path) -> dict:
    bundle = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for i in range(GENERATED):
        pdf = make_pdf_bytes(f"kill test {i}")
        bundle["items"].append(
            {
                "key": f"gen-{i}",
                "kind": "product_sheet",
                "title": f"Generated sheet {i}",
                "body": f"Generated body {i}.",
                "locale": "en",
                "files": [
                    {"name": f"gen-{i}.pdf", "content_base64": base64.b64encode(pdf).decode()}
                ],
            }
        )
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return bundle


class _Databases:
    """A migrated template copied from the test database, and a fresh copy per scenario."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.vendor = connection.vendor
        settings = connection.settings_dict
        self.test_name = settings["NAME"]  # the test database (set up: the module uses the db)
        # The template: a database file on SQLite, a database name on PostgreSQL.
        self.template: Path | str
        if self.vendor == "sqlite":
            self.template = workdir / "template.sqlite3"
            source = sqlite3.connect(self.test_name)
            target = sqlite3.connect(self.template)
            with target:
                source.backup(target)
            source.close()
            target.close()
            self.template_url = f"sqlite:///{self.template}"
        else:
            import psycopg

            self.server = (
                f"postgresql://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
                f"{settings['PORT'] or 5432}"
            )
            self.template = f"{self.test_name}_kill_tmpl"
            connection.close()  # CREATE DATABASE ... TEMPLATE needs the source unused
            self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            try:
                self._admin(f'CREATE DATABASE "{self.template}" TEMPLATE "{self.test_name}"')
            except psycopg.errors.ObjectInUse:
                # Another connection to the test database (a thread's): migrate instead.
                self._admin(f'CREATE DATABASE "{self.template}"')
                subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
                    [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                    cwd=ROOT,
                    env={
                        **os.environ,
                        "DJANGO_SETTINGS_MODULE": "portal_site.settings.test",
                        "DATABASE_URL": f"{self.server}/{self.template}",
                    },
                    check=True,
                    timeout=600,
                )
            self.template_url = f"{self.server}/{self.template}"
        self.made: list[str] = []

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            for statement in statements:
                admin.execute(statement)

    def fresh(self, label: str) -> str:
        """A DATABASE_URL of a new copy of the template."""
        if self.vendor == "sqlite":
            path = self.workdir / f"{label}.sqlite3"
            shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        name = f"{str(self.template)[:40]}_{label}"
        self._admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
        )
        self.made.append(name)
        return f"{self.server}/{name}"

    def count(self, url: str, table: str) -> int:
        """Committed rows, read by a connection of the test's own (WAL lets it read)."""
        if self.vendor == "sqlite":
            db = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=5)
            try:
                return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            finally:
                db.close()
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            row = pg.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            return row[0] if row else 0

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(
                *(
                    f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'
                    for n in [*self.made, self.template]
                )
            )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("import-kill")
    bundle = _bundle(workdir / "bundle.json")
    with django_db_blocker.unblock():
        databases = _Databases(workdir)
        assert databases.count(databases.template_url, "kb_itemkey") == 0, "no items expected"
        databases.pages = databases.count(databases.template_url, "wagtailcore_page")
    yield {"workdir": workdir, "bundle": bundle, "databases": databases}
    with django_db_blocker.unblock():
        databases.drop()


def _env(world, label: str) -> tuple[dict, Path]:
    base = world["workdir"] / label
    (base / "media").mkdir(parents=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal_site.settings.test",
        "DATABASE_URL": world["databases"].fresh(label),
        "TEST_MEDIA_ROOT": str(base / "media"),
        "PORTAL_IMPORT_JOURNAL_DIR": str(base / "journal"),
    }
    return env, base


def _import(env: dict, bundle_path: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "manage.py", "import_bundle", str(bundle_path), "-v", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _probe(env: dict, *steps: str) -> dict:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, str(PROBE), *steps],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _assert_consistent(state: dict, bundle: dict, *, pages_before: int) -> str:
    """The database holds all of the bundle or none of it; returns which."""
    keys = sorted(item["key"] for item in bundle["items"])
    files = sum(len(item.get("files") or []) for item in bundle["items"])
    if state["keys"]:
        assert state["keys"] == keys
        assert len(state["documents"]) == files
        assert len(state["live_items"]) == len(keys)
        return "imported"
    assert state["documents"] == []
    assert state["pages"] == pages_before, "a rolled-back import left pages behind"
    return "untouched"


def _assert_no_orphans(state: dict) -> None:
    assert state["journals"] == []
    assert sorted(state["files"]) == sorted(state["documents"]), (
        f"orphans: {sorted(set(state['files']) - set(state['documents']))}, "
        f"missing: {sorted(set(state['documents']) - set(state['files']))}"
    )


def _kill_after(proc: subprocess.Popen, *, items: int, delay: float, signum: int) -> str:
    """Send ``signum`` ``delay`` seconds after the import reported its ``items``-th item."""
    assert proc.stderr is not None  # started with stderr=PIPE
    created = 0
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith(("created item", "updated item")):
            created += 1
            if created >= items:
                break
    time.sleep(delay)
    proc.send_signal(signum)
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    return "".join(lines) + rest


# Seeds whose moments spread over the import (after item 20, 12 / 12, 1 of 21, plus up to 0.3 s);
# the end of the import (commit, index drain) is the next test's.
SCENARIOS = [
    pytest.param(signum, seed, id=f"{signal.Signals(signum).name}-{seed}")
    for signum, seed in (
        (signal.SIGKILL, 2),
        (signal.SIGKILL, 4),
        (signal.SIGTERM, 1),
        (signal.SIGTERM, 2),
    )
]


@pytest.mark.parametrize(("signum", "seed"), SCENARIOS)
def test_a_killed_import_leaves_all_or_nothing_and_no_orphans(world, signum, seed):
    rng = random.Random(seed * 7919 + signum)
    label = f"{signal.Signals(signum).name.lower()}{seed}"
    env, _ = _env(world, label)
    bundle = world["bundle"]
    pages_before = world["databases"].pages
    # Anywhere from the first item to just past the last (the commit and the index drain).
    items = rng.randint(1, len(bundle["items"]))
    delay = rng.uniform(0, 0.3)
    output = _kill_after(
        _import(env, world["workdir"] / "bundle.json"), items=items, delay=delay, signum=signum
    )

    report = _probe(env, "state", "sweep", "drain")
    before, after = report["before"], report["after"]
    outcome = _assert_consistent(before, bundle, pages_before=pages_before)
    # A committed file is never removed, by the import's clean-up or by the sweep.
    assert set(before["documents"]) <= set(before["files"])
    if signum == signal.SIGTERM:
        _assert_no_orphans(before)  # the import cleaned up before it exited
        if outcome == "untouched" and "stopped by SIGTERM" in output:
            assert "rolled back" in output
    _assert_consistent(after, bundle, pages_before=pages_before)
    _assert_no_orphans(after)
    assert after["outbox"] == 0
    assert after["indexed"] == after["live_items"]
    unreferenced = sorted(set(before["files"]) - set(before["documents"]))
    if signum == signal.SIGKILL and outcome == "untouched":
        # Item 1 carries a file: the killed import left it, and its journal, behind; the sweep
        # removed them at once, in spite of its 60-minute grace.
        assert unreferenced and before["journals"]
        assert all(
            f"DELETED (interrupted import) {name}" in report["sweep"] for name in unreferenced
        )
    print(  # noqa: T201 - what this seed hit, for the report
        f"{label}: signal after item {items} + {delay:.2f} s: {outcome}, "
        f"{len(unreferenced)} unreferenced files before the sweep, 0 after"
    )


def test_killed_right_after_the_commit_the_sweep_and_the_drain_finish_the_job(world):
    """SIGKILL as soon as the import's commit is visible: the items are live, the journal is
    still there and the index updates are still in the outbox. The sweep settles the journal
    (keeping every file: all are referenced); the drain indexes every item, with no
    rebuild_search_index."""
    env, _ = _env(world, "after-commit")
    databases = world["databases"]
    bundle = world["bundle"]
    url = env["DATABASE_URL"]
    proc = _import(env, world["workdir"] / "bundle.json")
    created = 0
    for line in proc.stderr:
        created += line.startswith("created item")
        if created == len(bundle["items"]):
            break
    deadline = time.monotonic() + 60
    while databases.count(url, "kb_itemkey") == 0 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.kill()
    proc.wait(timeout=60)

    report = _probe(env, "state", "sweep", "drain")
    before, after = report["before"], report["after"]
    assert _assert_consistent(before, bundle, pages_before=databases.pages) == "imported"
    assert before["outbox"] > 0, "the kill came after the drain: no window was tested"
    assert len(before["indexed"]) < len(before["live_items"])
    assert set(before["documents"]) <= set(before["files"])
    assert after["documents"] == before["documents"]  # the sweep kept every committed file
    _assert_no_orphans(after)
    assert after["outbox"] == 0
    assert after["indexed"] == after["live_items"]


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite locking")
def test_logins_succeed_while_an_import_runs_on_sqlite(world):
    env, _ = _env(world, "logins")
    email, password = "probe@vendor.example", "Probe-Portal-2026!"
    stop = world["workdir"] / "logins.stop"
    # The login process creates its user first, then logs in every 50 ms until told to stop.
    logins = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, str(PROBE), "logins", str(stop), email, password],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = world["workdir"] / "logins.stop.ready"
    deadline = time.monotonic() + 60
    while not ready.exists():  # Django start-up and the user
        assert logins.poll() is None and time.monotonic() < deadline, logins.stderr.read()
        time.sleep(0.05)
    started = time.time()
    imported = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "manage.py", "import_bundle", str(world["workdir"] / "bundle.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    finished = time.time()
    time.sleep(0.5)  # a few logins after the commit too
    stop.touch()
    out, err = logins.communicate(timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert logins.returncode == 0, err
    attempts = json.loads(out.splitlines()[-1])
    failures = [a for a in attempts if a["outcome"] != 302]
    assert not failures, failures[:3]
    during = [a for a in attempts if started < a["at"] < finished]
    assert len(during) >= 5, "the logins did not overlap the import"
    slowest = max(a["seconds"] for a in attempts)
    print(  # noqa: T201 - the figure goes to docs/bundle-format.md
        f"{len(attempts)} logins, {len(during)} during a {finished - started:.1f} s import, "
        f"slowest {slowest:.2f} s"
    )
