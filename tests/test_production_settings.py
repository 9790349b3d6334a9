"""The production settings load every class they name with only the declared dependencies.

Issue #9 found production answering 500 on /login/ because ``RedisCache`` imports ``redis`` only
when the first cache call is made, and ``redis`` was not in pyproject.toml: ``manage.py check
--deploy`` passed anyway. These tests load the production settings in a subprocess (they refuse to
start without their environment variables, and the test settings must stay untouched) and there
instantiate, not just import, every backend, engine, middleware, app, view, storage, task backend,
e-mail backend and search backend they name, plus the WSGI application, gunicorn and the task
worker. The subprocess refuses to import any installed package that ``[project] dependencies`` does
not bring in (directly or through a declared package's own requirements), as a clean install would
lack it: a package that happens to be in the developer's venv cannot hide a missing declaration.
Optional imports (``try: import brotli``) are refused too and simply take their fallback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent

# Runs under the production settings with every undeclared distribution made unimportable. Prints
# one JSON object: what was loaded, what failed, and which undeclared imports were refused.
PROBE = r"""
import importlib.abc, json, os, re, sys
from importlib.metadata import packages_distributions

allowed = set(json.loads(os.environ["PROBE_DECLARED"]))
owners_of = packages_distributions()
refused = set()


class RefuseUndeclared(importlib.abc.MetaPathFinder):
    # What a clean install of the declared dependencies would lack cannot be imported.

    def find_spec(self, name, path, target=None):
        owners = owners_of.get(name.partition(".")[0])
        if owners and not any(re.sub(r"[-_.]+", "-", d).lower() in allowed for d in owners):
            refused.add(name.partition(".")[0])
            message = f"No module named {name!r} ({owners} is not declared)"
            raise ModuleNotFoundError(message, name=name)
        return None


sys.meta_path.insert(0, RefuseUndeclared())
loaded, failed = [], []

def probe(kind, name, load):
    try:
        load()
        loaded.append(f"{kind}: {name}")
    except Exception as exc:  # report every failure, not only the first
        failed.append(f"{kind}: {name}: {type(exc).__name__}: {exc}")

import django
django.setup()
from importlib import import_module
from django.conf import settings
from django.utils.module_loading import import_string

for app in settings.INSTALLED_APPS:
    probe("app", app, lambda: None)  # django.setup() imported and readied every app
for path in settings.MIDDLEWARE:
    probe("middleware", path, lambda p=path: import_string(p))
for path in settings.AUTHENTICATION_BACKENDS:
    probe("auth backend", path, lambda p=path: import_string(p)())
from django.contrib.auth.hashers import get_hashers
from django.contrib.auth.password_validation import get_default_password_validators
probe("password hashers", ",".join(settings.PASSWORD_HASHERS), get_hashers)
probe("password validators", str(len(settings.AUTH_PASSWORD_VALIDATORS)),
      get_default_password_validators)
from django.template import engines
for engine in settings.TEMPLATES:
    probe("template engine", engine["BACKEND"], lambda: [e.engine for e in engines.all()])
    for cp in engine.get("OPTIONS", {}).get("context_processors", []):
        probe("context processor", cp, lambda p=cp: import_string(p))
from django.db import connections
for alias, db in settings.DATABASES.items():
    # Loads the backend module (psycopg for PostgreSQL); no connection is opened.
    probe("database", db["ENGINE"], lambda a=alias: connections[a].Database)
from django.core.cache import caches
for alias, cache in settings.CACHES.items():
    # RedisCache imports redis only when its client is built: build it (no connection yet).
    probe("cache", cache["BACKEND"], lambda a=alias: getattr(caches[a], "_cache", None))
probe("session engine", settings.SESSION_ENGINE,
      lambda: import_module(settings.SESSION_ENGINE).SessionStore())
probe("session serializer", settings.SESSION_SERIALIZER,
      lambda: import_string(settings.SESSION_SERIALIZER))
from django.core.files.storage import storages
for alias, storage in settings.STORAGES.items():
    probe("storage", storage["BACKEND"], lambda a=alias: storages[a])
from django_tasks import task_backends
for alias, backend in settings.TASKS.items():
    probe("tasks backend", backend["BACKEND"], lambda a=alias: task_backends[a])
from django.core.mail import get_connection
probe("email backend", settings.EMAIL_BACKEND, get_connection)
from search.backends import get_search_backend as portal_search_backend
for alias, backend in settings.PORTAL_SEARCH_BACKENDS.items():
    probe("portal search backend", backend["BACKEND"], lambda a=alias: portal_search_backend(a))
from wagtail.search.backends import get_search_backend as wagtail_search_backend
for alias, backend in settings.WAGTAILSEARCH_BACKENDS.items():
    probe("admin search backend", backend["BACKEND"], lambda a=alias: wagtail_search_backend(a))
from django.urls import get_resolver
probe("urlconf", settings.ROOT_URLCONF, lambda: get_resolver().url_patterns)
from django.core.servers.basehttp import get_internal_wsgi_application
probe("wsgi application", settings.WSGI_APPLICATION, get_internal_wsgi_application)
# The processes a deployment runs (docs/deployment.md): gunicorn and the task worker.
probe("server", "gunicorn", lambda: import_module("gunicorn.app.wsgiapp")
      and import_module("gunicorn.workers.gthread"))
from django.core.management import load_command_class
probe("worker", "db_worker", lambda: load_command_class("django_tasks_db", "db_worker"))
probe("worker", "portal_worker", lambda: load_command_class("scheduling", "portal_worker"))

print(json.dumps({"loaded": loaded, "failed": failed, "refused": sorted(refused)}))
"""

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal_site.settings.production",
    "DJANGO_SECRET_KEY": "probe-only-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_BASE_URL": "https://portal.example.com",
    # Never contacted: nothing in the probe opens a connection.
    "DATABASE_URL": "postgresql://probe@127.0.0.1:9/probe",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "EMAIL_HOST": "smtp.example.com",
    "DEFAULT_FROM_EMAIL": "portal@example.com",
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_closure() -> set[str]:
    """Normalised names of the distributions ``[project] dependencies`` brings in, transitively."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    closure: set[str] = {_normalise(project["name"])}
    pending = [Requirement(line) for line in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        req = pending.pop()
        key = (_normalise(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        closure.add(key[0])
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed: the probe's import fails and says so
        for line in requires:
            sub = Requirement(line)
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                pending.append(sub)
    return closure


def run_probe(declared: set[str]) -> dict:
    """Run PROBE under the production settings, with only ``declared`` distributions importable."""
    env = {**os.environ, **PRODUCTION_ENV, "PROBE_DECLARED": json.dumps(sorted(declared))}
    for name in ("PORTAL_SEARCH_URL", "S3_BUCKET", "PORTAL_STORAGE_REGIONS"):
        env.pop(name, None)  # the default production shape: database search, local storage
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_loads_everything_it_names_with_only_the_declared_dependencies():
    result = run_probe(declared_closure())
    assert result["failed"] == [], "\n".join(result["failed"])
    loaded = "\n".join(result["loaded"])
    # The probe really reached the parts that failed in issue #9 and the processes it runs.
    for expected in (
        "cache: ops.cache.ResilientRedisCache",  # RedisCache that degrades (issue #16)
        "session engine: django.contrib.sessions.backends.cached_db",
        "tasks backend: django_tasks_db.DatabaseBackend",
        "database: django.db.backends.postgresql",
        "server: gunicorn",
        "worker: db_worker",
        "worker: portal_worker",
        "wsgi application: portal_site.wsgi.application",
        "urlconf: portal_site.urls",
    ):
        assert expected in loaded, f"{expected!r} not probed:\n{loaded}"


def test_a_missing_declaration_fails_the_probe():
    """Issue #9 as it was: without redis and gunicorn declared, the probe names both."""
    closure = declared_closure()
    assert {"redis", "gunicorn"} <= closure
    result = run_probe(closure - {"redis", "gunicorn"})
    failed = "\n".join(result["failed"])
    assert "cache: ops.cache.ResilientRedisCache: ModuleNotFoundError" in failed
    assert "server: gunicorn: ModuleNotFoundError" in failed
    assert {"redis", "gunicorn"} <= set(result["refused"])


def test_dev_tools_are_not_production_dependencies():
    closure = declared_closure()
    assert not {"pytest", "locust", "hypothesis"} & closure
