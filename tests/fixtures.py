"""Shared fixtures: the portal's page structure, a partner world and the demo.

Database state that many tests read is built once, not per test, in layers of transactions that
are rolled back (the test database is reused between runs, so nothing may stay behind):

- ``demo``: the seed_demo world, seeded ONCE per test session in an outer transaction. The tests
  that use it are ordered into one block at the end of the database tests
  (``pytest_collection_modifyitems``) and the transaction is rolled back after the last of them.
- ``module_db``: a savepoint for one module's run of tests (on top of the demo for demo tests),
  where module-scoped fixtures build their world once: the site structure (``portal``), search
  worlds, what a module adds to the demo. It is rolled back when the module's tests that use it
  are done, so a module that changes the demo or builds a world leaks into nothing else.
- each test runs in its own savepoint on top (pytest-django's ``db``), as before.

The layers are closed by ``pytest_runtest_teardown`` as soon as the next test does not use them;
the ordering keeps the tests that use a layer together (within a module's run, the tests using
``module_db`` come last), so each layer is built once per block.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db.transaction import Atomic


@pytest.fixture
def portal(db, module_portal):
    """Homes and library sections for every content locale (en, de, cs). Built once per module
    (``module_portal``); each test gets them afresh (site_structure_ensure finds them)."""
    from kb.services import site_structure_ensure

    return site_structure_ensure(hostname="testserver", port=80)


def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile("dev", max_examples=60, **common)
    settings.register_profile("ci", max_examples=1000, **common)
    # The PostgreSQL leg re-checks the SQL dialect; SQLite's leg carries the 1,000 examples
    # (PostgreSQL is ~3x slower per example on this 2-core machine).
    settings.register_profile("ci-pg", max_examples=250, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_hypothesis_profiles()


# --- demo files ----------------------------------------------------------------------------------

_DEMO_ASSETS = ("make_logo", "make_pdf", "make_product_image")


class _AssetCache:
    """Generated demo files by their arguments. The generator is deterministic (checked by
    demo/tests/test_assets.py), so a re-seed in the same session reuses the bytes; the test
    of the real re-seed (demo/tests/test_seed_demo.py) generates them again (``disabled()``)."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], bytes] = {}
        self.enabled = True

    def wrap(self, name: str, generate: Callable[..., bytes]) -> Callable[..., bytes]:
        def cached(*args, **kwargs) -> bytes:
            if not self.enabled:
                return generate(*args, **kwargs)
            key = (name, repr((args, sorted(kwargs.items()))))
            if key not in self.files:
                self.files[key] = generate(*args, **kwargs)
            return self.files[key]

        cached.__wrapped__ = generate  # type: ignore[attr-defined]
        return cached

    def install(self) -> None:
        """Wrap the generators where the seeder calls them (once per process)."""
        import demo.builder as seeder

        for name in _DEMO_ASSETS:
            current = getattr(seeder, name)
            if not hasattr(current, "__wrapped__"):
                setattr(seeder, name, self.wrap(name, current))

    @contextmanager
    def disabled(self) -> Iterator[None]:
        """Generate every file again."""
        self.enabled = False
        try:
            yield
        finally:
            self.enabled = True


demo_assets = _AssetCache()


# --- the transaction layers ----------------------------------------------------------------------


def _clear_caches() -> None:
    """Forget what rolled-back data left in the cache (principals, site root paths...)."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()


def _module(item: pytest.Item) -> pytest.Module | None:
    return item.getparent(pytest.Module)


def _uses_demo(item: pytest.Item) -> bool:
    return "demo" in getattr(item, "fixturenames", ())


def _uses_module_db(item: pytest.Item) -> bool:
    return "module_db" in getattr(item, "fixturenames", ())


class _Layers:
    """The open outer transactions: the session demo, and one module's savepoint on top."""

    def __init__(self) -> None:
        self.demo: Atomic | None = None  # the demo's atomic block, while open
        self.demo_output = ""
        self.demo_seeds = 0
        self.module: Atomic | None = None  # the module savepoint's atomic block, while open
        self.module_node: pytest.Module | None = None
        self.module_on_demo = False
        self.item: pytest.Item | None = None  # the test being set up

    def open_demo(self, django_db_blocker) -> str:
        if self.demo is not None:
            return self.demo_output
        from django.core.management import call_command
        from django.db import connection, transaction

        with django_db_blocker.unblock():
            if connection.in_atomic_block:
                raise RuntimeError(
                    "The session demo is seeded outside any transaction: in a test that uses "
                    "both, request `demo` before module-scoped database fixtures (module_db)."
                )
            demo_assets.install()
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                out = io.StringIO()
                wagtail_roots_ensure()
                call_command("seed_demo", stdout=out)
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
        django_db_blocker.unblock()  # while the layer is open, as with a fixture in a `with`
        self.demo, self.demo_output = atomic, out.getvalue()
        self.demo_seeds += 1
        return self.demo_output

    def open_module(self, node: pytest.Module, django_db_blocker) -> None:
        if self.module is not None and self.module_node is node:
            return
        from django.db import connection, transaction

        with django_db_blocker.unblock():
            if self.module is not None or (connection.in_atomic_block and self.demo is None):
                raise RuntimeError("module_db: another transaction is open")
            atomic = transaction.atomic()
            atomic.__enter__()
        django_db_blocker.unblock()
        self.module, self.module_node, self.module_on_demo = atomic, node, self.demo is not None

    def _rollback(self, atomic, django_db_blocker) -> None:
        from django.db import transaction

        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            _clear_caches()
        django_db_blocker.restore()  # the unblock() of the layer's opening

    def close_after(self, nextitem: pytest.Item | None, django_db_blocker) -> None:
        """Roll back the layers ``nextitem`` does not use (all of them after the last test)."""
        if self.module is not None and (
            nextitem is None
            or _module(nextitem) is not self.module_node
            or not (_uses_module_db(nextitem) or _uses_demo(nextitem))
            or _uses_demo(nextitem) != self.module_on_demo
        ):
            atomic, self.module, self.module_node = self.module, None, None
            self._rollback(atomic, django_db_blocker)
        if self.demo is not None and (nextitem is None or not _uses_demo(nextitem)):
            if self.module is not None:
                raise RuntimeError("the demo is closed while a module savepoint is open on it")
            atomic, self.demo = self.demo, None
            self._rollback(atomic, django_db_blocker)

    def check(self, item: pytest.Item) -> None:
        """A test that uses a layer must find it open (its module-scoped fixtures, cached by
        pytest, describe data in it)."""
        if _uses_demo(item) and self.demo is None:
            raise RuntimeError(f"{item.nodeid}: the demo was rolled back before this test")
        if (_uses_module_db(item) or _uses_demo(item)) and self.module_node is not _module(item):
            raise RuntimeError(f"{item.nodeid}: its module's savepoint was rolled back")


_layers = _Layers()


@pytest.fixture(scope="module")
def module_db(request, django_db_setup, django_db_blocker):
    """A savepoint for this module's tests that use it: module-scoped fixtures build their world
    in it once; each test still runs in its own savepoint on top. Rolled back after them."""
    if _layers.item is not None and _uses_demo(_layers.item):
        _layers.open_demo(django_db_blocker)  # the demo goes under the module's savepoint
    _layers.open_module(request.node, django_db_blocker)


@pytest.fixture(scope="module")
def module_portal(module_db):
    """``portal`` for module-scoped worlds."""
    from kb.services import site_structure_ensure

    wagtail_roots_ensure()
    return site_structure_ensure(hostname="testserver", port=80)


@pytest.fixture(scope="module")
def demo(request, django_db_setup, django_db_blocker):
    """The seed_demo world, seeded once per session, with a savepoint for this module on top
    (what the module's fixtures add to it is rolled back after the module's demo tests). Its
    value is what the session's ``seed_demo`` printed."""
    output = _layers.open_demo(django_db_blocker)
    _layers.open_module(request.node, django_db_blocker)
    return output


@pytest.fixture(autouse=True)
def _language_reset():
    """A test that activates a language (a request through LocaleMiddleware, a German user's
    page, ``translation.activate``) must not leave it active for the next test in the thread:
    with tests reordered into module layers, a later test read the German search notice."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _layers_open(request):
    _layers.check(request.node)


def _django_order(item: pytest.Item) -> int:
    """pytest-django's order — 0 database tests in a transaction, 1 transactional, 2 the rest —
    with one step added: a test without a database marker that commits its own rows through
    ``django_db_setup`` (races between real connections) runs before the transactional tests,
    whose flush empties the rows the migrations made (root collection, locales) that it reads."""
    from django.test import TestCase, TransactionTestCase
    from pytest_django.plugin import validate_django_db

    cls = getattr(item, "cls", None)
    if cls and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    names = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and any(validate_django_db(marker)[:2])
    if transactional or "transactional_db" in names or "live_server" in names:
        return 2
    if marker or "db" in names:
        return 0
    return 1 if "django_db_setup" in names else 3


def _layer_order(item: pytest.Item) -> tuple[bool, int]:
    """Within a module's run: tests without the module's savepoint first, then those with it,
    the ones using more module-scoped fixtures (a world built on the site structure) last: a
    module-scoped world stays until the module's savepoint is rolled back, and the tests that do
    not ask for it must not see it."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return _uses_module_db(item), sum(1 for d in defs if d and d[-1].scope == "module")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep pytest-django's order (tests in a transaction, transactional tests, the rest) and
    move the tests in a transaction that use the demo to the end of their group, in their order:
    the session demo is open for that one block and no other test runs on top of it. Within each
    run of one module's tests (in or out of the block), see ``_layer_order``."""

    def group(item: pytest.Item) -> tuple[int, bool]:
        order = _django_order(item)
        return order, order == 0 and _uses_demo(item)

    items.sort(key=group)
    start = 0
    for end in range(1, len(items) + 1):
        if (
            end == len(items)
            or _module(items[end]) is not _module(items[start])
            or group(items[end]) != group(items[start])
        ):
            items[start:end] = sorted(items[start:end], key=_layer_order)
            start = end


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _layers.item = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield
    if _layers.demo is not None or _layers.module is not None:
        from pytest_django.plugin import blocking_manager_key

        _layers.close_after(nextitem, item.config.stash[blocking_manager_key])
    return result


@pytest.fixture
def local_storage(settings):
    """Local media storage even when the S3_* variables are set (tests that look at files)."""
    settings.PORTAL_S3 = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def wagtail_roots_ensure() -> None:
    """Wagtail's root page and root collection, which its migrations made: a transactional
    test's flush (they run after the others, but the test database is reused between runs)
    deletes them with every other row."""
    from wagtail.models import Collection, Page

    from kb.services import locales_ensure

    if not Collection.objects.filter(depth=1).exists():
        Collection.add_root(name="Root")
    if not Page.objects.filter(depth=1).exists():
        locales_ensure()
        Page.add_root(instance=Page(title="Root", slug="root"))


@pytest.fixture
def committed_portal(transactional_db):
    """``portal`` for ``transaction=True`` tests (other processes or threads see its rows):
    built in committed transactions (the flush after the test removes them)."""
    from kb.services import site_structure_ensure

    wagtail_roots_ensure()
    return site_structure_ensure(hostname="testserver", port=80)


def racing(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work()`` in ``count`` threads released at the same moment (each with its own
    database connection, closed at its end); return their results, fail on any exception."""
    import threading

    from django.db import connection

    barrier, results, errors = threading.Barrier(count), [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results
