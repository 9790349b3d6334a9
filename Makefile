# Two commands work on a fresh machine: `make run` and `make test` (`make dev` to work on the code).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py

.PHONY: run dev test test-s3 test-browser install messages migrate seed serve serve-with-worker lint format imports \
	typecheck check ci bench bench-storage bench-download bench-versions bench-cobrand bench-pages \
	js clean drill

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev,bench]"
	touch $@

## Compile the UI catalogues (locale/*/LC_MESSAGES/django.po -> .mo, only the changed ones). The
## .mo files are build products (git-ignored): every install compiles them from the .po files,
## with GNU gettext's msgfmt when installed, else with polib (.ci/compile_catalogues.py).
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0; \
	else \
		$(PY) .ci/compile_catalogues.py; \
	fi

## axe-core for the browser tests' accessibility checks, from the npm registry (package.json,
## pinned by package-lock.json) into node_modules/, never from a CDN. Skipped with a message where
## npm is missing (apt-get install nodejs npm); the browser tests then skip their axe checks
## (the CI's browser leg installs npm and fails without axe).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: skipping axe-core (apt-get install nodejs npm, then make install)"; \
	fi

js: node_modules/.installed

install: $(VENV)/.installed messages js

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

serve:
	$(MANAGE) runserver 127.0.0.1:8000

## `make run` serves the demo as users see it (portal_site/settings/run.py): DEBUG off, so the
## designed 404/500 pages; runserver without autoreload, its static handler on (--insecure: the
## static files with DEBUG off, as a production proxy serves them). `make dev` keeps Django's
## debug pages and autoreload (portal_site/settings/dev.py).
RUN_SETTINGS := DJANGO_SETTINGS_MODULE=portal_site.settings.run

## The server and one task worker beside it (scheduled publishing and expiry, docs/scheduling.md),
## as one command: the worker runs in the background and is stopped (SIGTERM: it finishes its
## current job) when the server stops, Ctrl+C included. The worker does not reload on code
## changes as runserver does: stop and start again after changing a job.
serve-with-worker:
	@$(RUN_SETTINGS) $(MANAGE) portal_worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(RUN_SETTINGS) $(MANAGE) runserver --noreload --insecure 127.0.0.1:8000

## Create the venv, install, migrate, seed the demo and serve it on 127.0.0.1:8000 with a worker,
## as users see it (DEBUG off: designed error pages).
run: seed serve-with-worker

## The same demo for development: Django's debug pages and runserver's autoreload (with a worker).
dev: seed
	@$(MANAGE) portal_worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(MANAGE) runserver 127.0.0.1:8000

## The fast test suite (SQLite; server legs are skipped unless their address is set).
test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

## The browser leg: Playwright driving Debian's Chromium (/usr/bin/chromium; apt-get install
## chromium). Never downloads a browser. `make test` skips these tests when Chromium is absent.
test-browser: install
	$(PY) -m pytest -q -m browser -p no:cacheprovider

## The storage leg: S3 tests against a throw-away Ceph RADOS Gateway (needs root for apt/daemons).
test-s3: install
	.ci/ceph.sh run $(PY) -m pytest -q -m s3

## The fault drill (issue #16): two gunicorn nodes and two task workers on PostgreSQL (database
## drill_ci, dropped and created), the drill's own redis-server and osmem-server, local files;
## partner load while a node is killed, Redis stopped, the database connections terminated
## twice and the engine paused. Fails on a raw 500, a lost session, a double or missed job run
## or digest, an engine out of step with the database or a lost write (.ci/drill.py; CI runs it
## on Ceph S3 with the gateway paused too). Needs PostgreSQL on 127.0.0.1:5432 and redis-server.
drill: install
	$(PY) .ci/drill.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## The import graph (apps import only the apps below them: pyproject.toml [tool.importlinter]) and
## every imported package declared in pyproject.toml.
imports: install
	$(VENV)/bin/lint-imports
	$(PY) .ci/declared_imports.py

## mypy with django-stubs: strict on permissions/, files/ and scheduling/, the rest checked non-strict.
typecheck: install
	$(VENV)/bin/mypy

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

## What .ci/run does minus the server legs: install, lint, import graph, typecheck, Django checks,
## the collected-test pin, the suite on SQLite (fresh test database, 1,000 property examples).
ci:
	.ci/run --no-servers

bench: install
	$(PY) bench/search.py

## The item page and the staff Versions page of a file with 1,000 versions vs one with 1.
bench-versions: install
	$(PY) bench/version_history.py

## Portal S3 path vs plain boto3 on a throw-away Ceph cluster (1 MB and 200 MB).
bench-storage: install
	.ci/ceph.sh run $(PY) bench/storage.py

## A 500 MiB file through the permission-checked download of `make run`'s server (runserver) and
## gunicorn, dev settings, SQLite and media in a temp folder: peak RSS growth and throughput / cp.
bench-download: install
	$(PY) bench/download.py

## The co-branding engine (issue #13): a 2000×2000 JPEG and a 20-page PDF against raw Pillow /
## a raw pypdf merge of the same overlay, and a cached hit (read + stamp) against a first render.
bench-cobrand: install
	$(PY) bench/cobrand.py

## Anna's five key pages (home, library, item, search, suggest) in Chromium against a plain
## Wagtail page on the same gunicorn (DEBUG off): time to first byte and load, median and p95.
bench-pages: install
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) node_modules .test-db.sqlite3 db.sqlite3
