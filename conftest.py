"""Root conftest so fixtures in tests.fixtures.py reach every app's tests."""

pytest_plugins = ["tests.fixtures", "tests.browser"]


def pytest_configure(config):
    # The SQLite test database runs in WAL mode (settings/base.py): its -wal and -shm files sit
    # next to it. --create-db removes only the database file, and a -wal left by a killed run
    # would be replayed into the new database; remove them with it.
    import os
    from pathlib import Path

    if not config.getoption("create_db", default=False):
        return
    name = os.environ.get("PORTAL_TEST_DB") or str(Path(__file__).parent / ".test-db.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(name + suffix).unlink(missing_ok=True)
