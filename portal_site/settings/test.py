"""Fast test settings: MD5 hasher, locmem cache, immediate tasks, media in a temp folder."""

import os
import tempfile

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="portal-media-"))  # noqa: F405
PORTAL_IMPORT_JOURNAL_DIR = Path(  # noqa: F405
    os.environ.get("PORTAL_IMPORT_JOURNAL_DIR") or tempfile.mkdtemp(prefix="portal-journal-")
)
# The SQLite test database lives in a file so --reuse-db can keep it between runs.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get("PORTAL_TEST_DB") or str(BASE_DIR / ".test-db.sqlite3")  # noqa: F405
    }
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The test search server, osmem-server, is OpenSearch-compatible: the engine tests (marker
# search_engine) talk to it in plain JSON (search/transport.py). Production defaults to
# Elasticsearch and selects this only through PORTAL_SEARCH_FLAVOR.
PORTAL_SEARCH_FLAVOR = "opensearch"
# Tests never call a real translation service, whatever the environment says.
WAGTAILLOCALIZE_MACHINE_TRANSLATOR = machine_translator({})  # noqa: F405
