"""Production settings. Every secret and server address comes from the environment; a missing one
stops start-up with ImproperlyConfigured instead of running with a default."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def env(name: str) -> str:
    """Return a required environment variable or refuse to start."""
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (see README).")
    return value


DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in env("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS]
WAGTAILADMIN_BASE_URL = env("PORTAL_BASE_URL")
# Machine translation only with a real service configured (the dummy one reverses words).
WAGTAILLOCALIZE_MACHINE_TRANSLATOR = machine_translator(fallback_dummy=False)  # noqa: F405

# Production must name its database explicitly: no silent SQLite.
env("DATABASE_URL")
DATABASES = {"default": dj_database_url.config(conn_max_age=60, conn_health_checks=True)}  # noqa: F405
# A request's writes commit together or not at all (ops/middleware.py, settings/base.py).
DATABASES["default"]["ATOMIC_REQUESTS"] = DATABASES["default"]["ENGINE"] != (
    "django.db.backends.sqlite3"
)

# A down Redis costs speed, not logins or pages: its errors are misses, skipped writes are
# deleted once it is back, failures are logged once a minute (ops/cache.py). Sessions live in the
# database (cached_db), so they stay readable and writable without Redis.
# (base.py's CACHES has only strings: mypy would take its type for this one.)
CACHES = {
    "default": {
        "BACKEND": "ops.cache.ResilientRedisCache",
        "LOCATION": env("REDIS_URL"),
        "OPTIONS": {  # type: ignore[dict-item]
            "socket_connect_timeout": float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.5")),
            "socket_timeout": float(os.environ.get("REDIS_TIMEOUT", "0.5")),
            "RETRY_SECONDS": float(os.environ.get("PORTAL_CACHE_RETRY_SECONDS", "5")),
            "LOG_SECONDS": float(os.environ.get("PORTAL_CACHE_LOG_SECONDS", "60")),
        },
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Background work runs in `manage.py portal_worker` processes (django-tasks-db's worker plus the
# scheduled jobs, docs/scheduling.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]  # noqa: F405

# Where `collectstatic` gathers the static files that the reverse proxy serves (docs/deployment.md).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or STATIC_ROOT)  # noqa: F405

EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = True
# A silent SMTP server must not hold a task worker (digests, resets) forever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The UI language cookie: HTTPS only, never read by scripts, not sent on cross-site requests.
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"
# Wagtail's live preview shows the page in a same-origin iframe, which DENY would break.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W019"]  # noqa: F405
