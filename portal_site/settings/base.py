"""Settings shared by every environment.

Environment-specific files (dev, test, production) import from here and override. Anything that is a
secret or a server address is read from the environment in ``production.py``.
"""

import os
from pathlib import Path

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

INSTALLED_APPS = [
    "accounts",
    "permissions",
    "kb",
    "search",
    "localization",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "guardian",
    "django_tasks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "portal_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.middleware.ui_language",
            ],
        },
    },
]

WSGI_APPLICATION = "portal_site.wsgi.application"

# DATABASE_URL selects the database; without it, SQLite in the project folder.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
]
# Guardian is used only inside permissions/ for per-organisation grants and exceptions; it never
# authenticates and needs no anonymous user row.
ANONYMOUS_USER_NAME = None
# All Wagtail page classes share one set of object permissions (on wagtailcore.Page), so a grant
# made on a ProductSheetPage is the same row whichever class the page is loaded as.
GUARDIAN_GET_CONTENT_TYPE = "permissions.guardian.get_content_type"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation. UI languages (gettext) and content languages (pages) are separate lists:
# the UI may speak a language for which no content exists yet.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("cs", "Čeština"),
    ("fr", "Français"),
    ("ar", "العربية"),
]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("cs", "Čeština"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = BASE_DIR / "static"
STATIC_URL = "/static/"

# Media is private: nothing under MEDIA_URL is served publicly. Partners get files only through the
# permission-checked views in kb/views.py; /media/ answers only to staff (the admin's thumbnails).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Bytes per read when streaming a file: 1 MiB streams ~12x faster than Django's 4 KiB default.
PORTAL_DOWNLOAD_BLOCK_SIZE = 1024 * 1024

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Partner Portal"
WAGTAILADMIN_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WAGTAILDOCS_DOCUMENT_MODEL = "kb.PortalDocument"
WAGTAILIMAGES_IMAGE_MODEL = "kb.PortalImage"
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "pptx", "xlsx", "txt", "csv", "zip", "png", "jpg"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 200 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 30 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 60_000_000
WAGTAIL_USER_EDIT_FORM = "accounts.forms.PortalUserEditForm"
WAGTAIL_USER_CREATION_FORM = "accounts.forms.PortalUserCreationForm"
WAGTAIL_USER_CUSTOM_FIELDS = ["preferred_language", "time_zone"]
WAGTAIL_WORKFLOW_ENABLED = True

# --- search -------------------------------------------------------------------------------------
# PORTAL_SEARCH_URL (e.g. http://127.0.0.1:9200) switches both search surfaces to Elasticsearch 8:
# the partners' portal search (search/, PORTAL_SEARCH_BACKENDS) and the editors' admin search
# (Wagtail's own backend). Without it both use the database. See docs/search.md.
PORTAL_SEARCH_URL = os.environ.get("PORTAL_SEARCH_URL", "")
PORTAL_SEARCH_INDEX_PREFIX = os.environ.get("PORTAL_SEARCH_INDEX_PREFIX", "portal")
# Seconds an engine search may take before the portal answers from the database instead.
PORTAL_SEARCH_TIMEOUT = float(os.environ.get("PORTAL_SEARCH_TIMEOUT", "2"))
# Per content language: the Elasticsearch analyzer (a built-in name, or "folding": standard +
# asciifolding) and the PostgreSQL text search config. "*" is every other language.
PORTAL_SEARCH_LANGUAGES = {
    "en": {"analyzer": "english", "postgres": "english"},
    "de": {"analyzer": "german", "postgres": "german"},
    "fr": {"analyzer": "french", "postgres": "french"},
    "*": {"analyzer": "folding", "postgres": "simple"},
}
if PORTAL_SEARCH_URL:
    from search.transport import CompatibleJsonNode

    PORTAL_SEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": [PORTAL_SEARCH_URL],
            "INDEX_PREFIX": PORTAL_SEARCH_INDEX_PREFIX,
            "TIMEOUT": PORTAL_SEARCH_TIMEOUT,
        }
    }
    WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "wagtail.search.backends.elasticsearch8",
            "URLS": [PORTAL_SEARCH_URL],
            "INDEX": f"{PORTAL_SEARCH_INDEX_PREFIX}-admin",
            "TIMEOUT": 5,
            "OPTIONS": {"node_class": CompatibleJsonNode},
            "INDEX_SETTINGS": {"settings": {"index": {"number_of_shards": 1}}},
        }
    }
else:
    PORTAL_SEARCH_BACKENDS = {"default": {"BACKEND": "search.backends.database"}}
    WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Background work (indexing, renders, e-mails) goes through django-tasks; the embedded default runs
# tasks immediately, production uses the database worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PORTAL_NEW_DAYS = 30
PORTAL_PAGE_SIZE = 20

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "portal": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Guardian is not an authentication backend here on purpose: object permissions are read only by
# permissions/policies.py, never through user.has_perm().
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
