"""Settings of the ``portal_worker`` subprocesses of tests/test_workers.py: the test settings
(DATABASE_URL names the pytest test database, TEST_MEDIA_ROOT the test's media folder), the
test-only jobs app, and e-mail written to files that the test reads (both workers share one
folder)."""

import os

from portal_site.settings.test import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_jobs.apps.WorkerJobsConfig"]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["PORTAL_TEST_EMAIL_DIR"]
