"""Local development: the embedded default (SQLite, local media, database search)."""

import os

from .base import *  # noqa: F403

DEBUG = True
# A development-only key: production.py never falls back to it (it requires DJANGO_SECRET_KEY).
SECRET_KEY = "dev-only-insecure-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# E-mails (password resets, digests) are printed on the console; with PORTAL_EMAIL_DIR set, each
# is written to a file in that folder instead (to open the HTML digest in a browser).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if os.environ.get("PORTAL_EMAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["PORTAL_EMAIL_DIR"]
