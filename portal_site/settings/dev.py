"""Local development: the embedded default (SQLite, local media, database search)."""

from .base import *  # noqa: F403

DEBUG = True
# A development-only key: production.py never falls back to it (it requires DJANGO_SECRET_KEY).
SECRET_KEY = "dev-only-insecure-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
