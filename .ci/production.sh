#!/usr/bin/env bash
# The production leg: boot the PRODUCTION settings the way docs/deployment.md deploys them and
# drive them over real HTTP.
#
#   .ci/production.sh            (from .ci/run; also runnable by hand after `make install`)
#
# A fresh PostgreSQL database, a Redis database of its own (flushed), migrate + seed_demo +
# collectstatic under the production settings, then gunicorn (portal_site.wsgi, 2 workers x 2
# threads) and the task worker (`manage.py portal_worker`: django-tasks' db_worker plus the
# scheduled jobs) in the background, and the smoke
# driver .ci/production_smoke.py against them: partner and staff logins, home, library, item,
# download, cover image, search (indexed by the worker), admin dashboard and explorer, 404 for
# hidden items. The leg fails on any 5xx or unexpected status, and when gunicorn or the worker
# logged a traceback. gunicorn and the worker are stopped by their pids on exit.
#
# Variables (defaults in brackets): PYTHON_BIN [.venv/bin/python], PRODUCTION_DB
# [portal_ci_production], PRODUCTION_PORT [8010], PRODUCTION_REDIS_URL
# [redis://127.0.0.1:6379/15], PGHOST_URL [postgresql://postgres@127.0.0.1:5432].
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON_BIN:-.venv/bin/python}"
DB="${PRODUCTION_DB:-portal_ci_production}"
PORT="${PRODUCTION_PORT:-8010}"
PG="${PGHOST_URL:-postgresql://postgres@127.0.0.1:5432}"
started=$(date +%s)

work=$(mktemp -d -t portal-production-XXXXXX)
pids=()
stop() {
  # Our own processes only, by pid; gunicorn's master stops its workers on TERM.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT

export DJANGO_SETTINGS_MODULE=portal_site.settings.production
DJANGO_SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export PORTAL_BASE_URL="https://127.0.0.1:$PORT"
export DATABASE_URL="$PG/$DB"
export REDIS_URL="${PRODUCTION_REDIS_URL:-redis://127.0.0.1:6379/15}"
export EMAIL_HOST=127.0.0.1 DEFAULT_FROM_EMAIL=portal@example.com
export MEDIA_ROOT="$work/media" STATIC_ROOT="$work/static"
# The leg uses the embedded database search and local files, whatever the caller's shell says.
unset PORTAL_SEARCH_URL S3_BUCKET PORTAL_STORAGE_REGIONS

echo "--- fresh database $DB, Redis $REDIS_URL (flushed)"
"$PY" - "$PG" "$DB" <<'EOF'
import sys

import psycopg
from psycopg import sql

server, name = sys.argv[1], sys.argv[2]
with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
EOF
# A previous run's cache entries (ids, the region tree) would not match the new database.
"$PY" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()'

echo "--- check --deploy, migrate, seed_demo, collectstatic (production settings)"
"$PY" manage.py check --deploy --fail-level WARNING
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo --quiet
"$PY" manage.py collectstatic --noinput -v 0

echo "--- gunicorn on 127.0.0.1:$PORT and the task worker"
"$PY" -m gunicorn -c portal_site/gunicorn.conf.py --bind "127.0.0.1:$PORT" \
  --workers 2 --threads 2 portal_site.wsgi >"$work/gunicorn.log" 2>&1 &
pids+=($!)
"$PY" manage.py portal_worker --no-startup-delay --interval 0.5 --schedule-interval 2 \
  >"$work/worker.log" 2>&1 &
pids+=($!)

smoke_rc=0
"$PY" .ci/production_smoke.py --base-url "http://127.0.0.1:$PORT" || smoke_rc=$?

# The worker ran the scheduled jobs (the first run is due at its start): each ran, none failed.
"$PY" - <<'EOF' || smoke_rc=1
import django

django.setup()
from scheduling.models import ScheduledJob
from scheduling.registry import jobs_registered

rows = {job.name: job for job in ScheduledJob.objects.all()}
for name in jobs_registered():
    row = rows.get(name)
    if row is None or row.run_count < 1 or row.failure_count:
        raise SystemExit(f"scheduled job {name} did not run cleanly: {row and row.last_error}")
    print(f"scheduled job {name}: {row.run_count} run(s), next at {row.next_run_at:%H:%M:%S}")

# A task whose worker died mid-run (RUNNING since long ago) is queued again by housekeeping and
# then run by the worker (django-tasks-db alone would leave it RUNNING for ever).
import time
from datetime import timedelta

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ops.housekeeping import housekeeping
from search.tasks import drain_outbox_task

result = drain_outbox_task.enqueue()
DBTaskResult.objects.filter(pk=result.id).update(
    status=TaskResultStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2)
)
if housekeeping().tasks_requeued != 1:
    raise SystemExit("housekeeping did not queue the abandoned task again")
for _ in range(60):
    if DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL:
        print("an abandoned task was queued again and run by the worker")
        break
    time.sleep(0.5)
else:
    raise SystemExit("the re-queued task did not run")
EOF

# Both processes must still be running: a crash after the smoke would otherwise pass unseen.
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "process $pid exited early" >&2; smoke_rc=1; }
done
if grep -q "Traceback" "$work/gunicorn.log" "$work/worker.log"; then
  echo "a traceback was logged:" >&2
  smoke_rc=1
fi
if [ "$smoke_rc" -ne 0 ]; then
  echo "--- gunicorn log"; tail -n 200 "$work/gunicorn.log"
  echo "--- worker log"; tail -n 200 "$work/worker.log"
  echo "production leg FAILED after $(( $(date +%s) - started )) s" >&2
  exit 1
fi
echo "production leg passed in $(( $(date +%s) - started )) s"
