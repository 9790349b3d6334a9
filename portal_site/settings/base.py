"""Settings shared by every environment.

Environment-specific files (dev, test, production) import from here and override. Anything that is a
secret or a server address is read from the environment in ``production.py``.
"""

import json
import os
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

INSTALLED_APPS = [
    # The portal's apps, top to bottom: each imports only the ones below it (docs/architecture.md).
    "ops",
    "demo",
    "imports",
    "sharing",
    "cobranding",
    "search",
    "digest",
    "kb",
    "accounts",
    "branding",  # the brand setting (issue #14): name, logo, colours, footer links
    "permissions",
    "files",
    "scheduling",
    "localization",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "accounts.apps.PortalWagtailUsersConfig",  # wagtail.users with our user forms
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
    "axes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.humanize",  # intcomma: locale-aware counts in the portal's templates
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before the host check and HTTPS redirect (ops/).
    "ops.middleware.HealthCheckMiddleware",
    # Wraps everything else: a lost database connection is retried or a designed 503 (ops/).
    "ops.middleware.DatabaseFaultMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kb.middleware.PrivateCacheMiddleware",  # wraps all below: every response is private
    "kb.middleware.PortalCSPMiddleware",
    "kb.middleware.RejectNulMiddleware",  # before anything looks a NUL up (400, not 500)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "files.middleware.StorageUnavailableMiddleware",
    "search.middleware.InvalidSearchMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "accounts.middleware.UILanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last: turns a login django-axes refused into the 429 login page (accounts/throttling.py).
    "axes.middleware.AxesMiddleware",
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
                "accounts.middleware.portal_principal",
                "branding.context_processors.brand",
                "kb.context_processors.portal_nav",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Write-ahead logging: readers never wait for a writer (the mode is stored in the file; the
    # pragma is a no-op once set). BEGIN IMMEDIATE takes the write lock when a transaction
    # starts, where the busy timeout applies: a deferred transaction that upgrades to a write
    # half-way fails at once with "database is locked". The timeout (seconds) covers the
    # longest write transaction, an import (docs/bundle-format.md).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": float(os.environ.get("SQLITE_BUSY_TIMEOUT", "60")),
        }
    )
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # A request's writes commit together or not at all: a connection lost half-way through a
    # view leaves nothing half-applied (ops/middleware.py). Not on SQLite, whose IMMEDIATE
    # transactions would take the write lock for every read (and whose file is never "lost").
    DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses every login (right password included) of a locked account or address.
    "accounts.throttling.PortalAxesBackend",
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

# --- login throttling (django-axes, database handler) and password reset -------------------------
# Both login pages (/login/, /admin/login/) count failures per account (the e-mail typed,
# lower-cased) and per client address, in the database: it works across app nodes and with Redis
# down. An account is locked after PORTAL_LOGIN_ACCOUNT_LIMIT failures from anywhere, an address
# after PORTAL_LOGIN_ADDRESS_LIMIT failures for any accounts, for PORTAL_LOGIN_COOLOFF_MINUTES after
# the last counted failure. See docs/decisions.md, "Hardening: logins".
PORTAL_LOGIN_ACCOUNT_LIMIT = int(os.environ.get("PORTAL_LOGIN_ACCOUNT_LIMIT", "10"))
PORTAL_LOGIN_ADDRESS_LIMIT = int(os.environ.get("PORTAL_LOGIN_ADDRESS_LIMIT", "30"))
PORTAL_LOGIN_COOLOFF_MINUTES = int(os.environ.get("PORTAL_LOGIN_COOLOFF_MINUTES", "15"))
# Reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: REMOTE_ADDR).
PORTAL_TRUSTED_PROXY_COUNT = int(os.environ.get("PORTAL_TRUSTED_PROXY_COUNT", "0"))
AXES_ENABLED = True
AXES_HANDLER = "accounts.throttling.PortalAxesHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Axes compares one count with one limit: the handler puts the address count on the account scale.
AXES_FAILURE_LIMIT = PORTAL_LOGIN_ACCOUNT_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=PORTAL_LOGIN_COOLOFF_MINUTES)
# Attempts during a lockout do not extend it: the "try again in N minutes" on the page stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the counters: it would also wipe the address's (an attacker with one
# valid account could reset the per-address limit by logging into it).
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.client_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Only failures and lockouts are written; axes' success log would be one row per login, unread.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
WAGTAILADMIN_USER_LOGIN_FORM = "accounts.forms.PortalAdminLoginForm"
# A reset link is valid this long (and only until it has been used: the password changes).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PORTAL_PASSWORD_RESET_TIMEOUT", str(60 * 60)))
# Reset requests per e-mail address and per client address in PORTAL_PASSWORD_RESET_WINDOW_MINUTES.
PORTAL_PASSWORD_RESET_EMAIL_LIMIT = int(os.environ.get("PORTAL_PASSWORD_RESET_EMAIL_LIMIT", "3"))
PORTAL_PASSWORD_RESET_ADDRESS_LIMIT = int(
    os.environ.get("PORTAL_PASSWORD_RESET_ADDRESS_LIMIT", "10")
)
PORTAL_PASSWORD_RESET_WINDOW_MINUTES = int(
    os.environ.get("PORTAL_PASSWORD_RESET_WINDOW_MINUTES", "60")
)

# Internationalisation. UI languages (gettext) and content languages (pages) are separate lists:
# the UI may speak a language for which no content exists yet.
LANGUAGE_CODE = "en"
LANGUAGES = [
    # Django's lower-case codes, each named by its endonym (the switcher lists them so).
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("pt-br", "Português (Brasil)"),
    ("cs", "Čeština"),
    ("pl", "Polski"),
    ("ja", "日本語"),
    ("zh-hans", "简体中文"),
    ("ar", "العربية"),
]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("cs", "Čeština"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]


def machine_translator(environ: Any = os.environ, *, fallback_dummy: bool = True) -> dict | None:
    """wagtail-localize's machine translator, chosen from the environment (docs/translations.md):
    DeepL when PORTAL_DEEPL_API_KEY is set, else LibreTranslate when PORTAL_LIBRETRANSLATE_URL is
    set (with PORTAL_LIBRETRANSLATE_API_KEY if the server wants one), else the dummy translator
    (development and tests; production offers none instead)."""
    if key := environ.get("PORTAL_DEEPL_API_KEY"):
        return {
            "CLASS": "wagtail_localize.machine_translators.deepl.DeepLTranslator",
            "OPTIONS": {"AUTH_KEY": key, "TIMEOUT": 30},
        }
    if url := environ.get("PORTAL_LIBRETRANSLATE_URL"):
        return {
            "CLASS": "wagtail_localize.machine_translators.libretranslate.LibreTranslator",
            "OPTIONS": {
                "LIBRETRANSLATE_URL": url.rstrip("/"),
                "API_KEY": environ.get("PORTAL_LIBRETRANSLATE_API_KEY", ""),
                "TIMEOUT": 30,
            },
        }
    if fallback_dummy:
        return {"CLASS": "wagtail_localize.machine_translators.dummy.DummyTranslator"}
    return None


WAGTAILLOCALIZE_MACHINE_TRANSLATOR = machine_translator()
# The Translate action creates translations as drafts, even of a live source: a translation goes
# live only through its review workflow (Regional review, then Approval; docs/translations.md).
WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False
TIME_ZONE = "UTC"
# The zones an editor may pick in Wagtail's account settings: the portal's own list
# (accounts.models.time_zone_choices); the admin shows and takes times in the user's zone
# (accounts.middleware.admin_time_zone_sync).
WAGTAIL_USER_TIME_ZONES = [
    zone for zone in sorted(zoneinfo.available_timezones()) if "/" in zone or zone == "UTC"
]
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
# Import journals (files/journal.py): a local folder of the host that runs import_bundle, outside
# MEDIA_ROOT (the orphan sweep lists MEDIA_ROOT).
PORTAL_IMPORT_JOURNAL_DIR = Path(
    os.environ.get("PORTAL_IMPORT_JOURNAL_DIR", BASE_DIR / "var" / "import-journal")
)
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# S3 object storage (django-storages over boto3), chosen by environment variables; without
# S3_BUCKET the local media folder above stays the storage. See docs/storage.md.
PORTAL_S3 = None
if os.environ.get("S3_BUCKET"):
    PORTAL_S3 = {
        "bucket": os.environ["S3_BUCKET"],
        "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
        "region": os.environ.get("S3_REGION") or None,
        "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "path"),
        # A presigned download URL is valid this long; never more than a minute.
        "presign_seconds": min(int(os.environ.get("S3_PRESIGN_SECONDS", "60")), 60),
        "max_attempts": int(os.environ.get("S3_MAX_ATTEMPTS", "4")),
        "connect_timeout": float(os.environ.get("S3_CONNECT_TIMEOUT", "3")),
        # A request waits at most max_attempts x max(connect, read) + backoff for a store that
        # hangs (about 47 s), below gunicorn's and the proxy's 120 s: the user gets the 503 page
        # (docs/deployment.md, "What each part may lose").
        "read_timeout": float(os.environ.get("S3_READ_TIMEOUT", "10")),
        # A download HEADs its object only when the bucket has not answered for this long
        # (files.storage.presigned_url); 0 = a HEAD before every redirect.
        "health_seconds": float(os.environ.get("S3_HEALTH_SECONDS", "30")),
    }
    if PORTAL_S3["addressing_style"] not in ("path", "virtual", "auto"):
        raise ValueError("S3_ADDRESSING_STYLE must be path, virtual or auto")
    STORAGES["default"] = {"BACKEND": "files.storage.RoutingStorage"}
# Data residency: residency region key -> its bucket, e.g.
# {"emea": {"bucket": "portal-eu", "endpoint_url": "https://s3.eu-central-1.amazonaws.com",
#           "region_name": "eu-central-1"}}. Files of items restricted to one region and brand
# kits of that region's organisations live there (files/storage.py).
PORTAL_STORAGE_REGIONS = json.loads(os.environ.get("PORTAL_STORAGE_REGIONS") or "{}")
# Bytes per read when streaming a file: 1 MiB streams ~12x faster than Django's 4 KiB default.
PORTAL_DOWNLOAD_BLOCK_SIZE = 1024 * 1024

# Share links (sharing/, docs/sharing.md): a partner's link to a co-branded asset for its
# customers works PORTAL_SHARE_LINK_DEFAULT_DAYS days unless the partner picks 1..MAX days. A
# password-protected link allows PORTAL_SHARE_PASSWORD_LIMIT wrong passwords per client address
# per PORTAL_SHARE_PASSWORD_WINDOW_MINUTES. The customer page names the vendor as
# PORTAL_VENDOR_NAME.
PORTAL_SHARE_LINK_DEFAULT_DAYS = int(os.environ.get("PORTAL_SHARE_LINK_DEFAULT_DAYS", "14"))
PORTAL_SHARE_LINK_MAX_DAYS = int(os.environ.get("PORTAL_SHARE_LINK_MAX_DAYS", "90"))
PORTAL_SHARE_PASSWORD_LIMIT = int(os.environ.get("PORTAL_SHARE_PASSWORD_LIMIT", "5"))
PORTAL_SHARE_PASSWORD_WINDOW_MINUTES = int(
    os.environ.get("PORTAL_SHARE_PASSWORD_WINDOW_MINUTES", "15")
)
PORTAL_VENDOR_NAME = os.environ.get("PORTAL_VENDOR_NAME", "Altivo Networks")

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Partner Portal"
# "Pricing" and "pricing" are one tag (Wagtail's recommendation; see docs/bundle-format.md).
TAGGIT_CASE_INSENSITIVE = True
WAGTAILADMIN_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WAGTAILDOCS_DOCUMENT_MODEL = "files.PortalDocument"
WAGTAILIMAGES_IMAGE_MODEL = "files.PortalImage"
# Wagtail's own /documents/ URL (admin): its hook checks the policy first; on S3 it then
# redirects to the storage's presigned, short-lived URL instead of proxying the bytes.
WAGTAILDOCS_SERVE_METHOD = "redirect" if PORTAL_S3 else "serve_view"
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "pptx", "xlsx", "txt", "csv", "zip", "png", "jpg"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 200 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 30 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 60_000_000
# Uploads are checked by content before they are stored (files/validation.py).
WAGTAILDOCS_DOCUMENT_FORM_BASE = "files.forms.PortalDocumentForm"
WAGTAILIMAGES_IMAGE_FORM_BASE = "files.forms.PortalImageForm"
PORTAL_UPLOAD_MAX_IMAGE_PIXELS = WAGTAILIMAGES_MAX_IMAGE_PIXELS
PORTAL_UPLOAD_MAX_FILENAME = 80
PORTAL_LOGO_EXTENSIONS = ["png", "jpg", "jpeg"]
PORTAL_LOGO_MAX_UPLOAD_SIZE = 2 * 1024 * 1024
# Largest logo in pixels (width × height): 4000 × 4000. A bigger one is refused as it is not a
# logo but a poster (or a decompression bomb); docs/organizations.md.
PORTAL_LOGO_MAX_PIXELS = int(os.environ.get("PORTAL_LOGO_MAX_PIXELS", str(16_000_000)))
# How long an invitation link to join an organisation stays valid (docs/organizations.md).
PORTAL_INVITATION_DAYS = int(os.environ.get("PORTAL_INVITATION_DAYS", "7"))
# Invitations one organisation may send per 24 hours (each is an e-mail the portal sends).
PORTAL_INVITATIONS_PER_DAY = int(os.environ.get("PORTAL_INVITATIONS_PER_DAY", "50"))
# ZIP and Office files are decompressed (streamed) while checked: beyond these, a zip bomb.
PORTAL_ZIP_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
PORTAL_ZIP_MAX_ENTRIES = 10_000
# Beyond the first MiB, an entry may expand at most this many times its compressed size.
PORTAL_ZIP_MAX_RATIO = 200
WAGTAIL_WORKFLOW_ENABLED = True

# --- search -------------------------------------------------------------------------------------
# PORTAL_SEARCH_URL (e.g. http://127.0.0.1:9200) switches both search surfaces to the engine: the
# partners' portal search (search/, PORTAL_SEARCH_BACKENDS) and the editors' admin search
# (Wagtail's own backend). Without it both use the database. See docs/search.md.
PORTAL_SEARCH_URL = os.environ.get("PORTAL_SEARCH_URL", "")
PORTAL_SEARCH_INDEX_PREFIX = os.environ.get("PORTAL_SEARCH_INDEX_PREFIX", "portal")
# The engine's kind: "elasticsearch" (Elasticsearch 8, the default) or "opensearch" (an
# OpenSearch-compatible server, spoken to in plain JSON: search/transport.py).
PORTAL_SEARCH_FLAVOR = os.environ.get("PORTAL_SEARCH_FLAVOR", "elasticsearch")
# Seconds an engine search may take before the portal answers from its fallback instead.
PORTAL_SEARCH_TIMEOUT = float(os.environ.get("PORTAL_SEARCH_TIMEOUT", "2"))
# The database backend counts, facets and ranks at most this many visible matches per query (the
# most recently created ones, plus every item whose title, product name or tags match); beyond it
# the total reads "1,000+". It keeps a search's cost flat as the catalogue grows (docs/search.md).
PORTAL_SEARCH_EXACT_LIMIT = int(os.environ.get("PORTAL_SEARCH_EXACT_LIMIT", "1000"))
# Per content language: the Elasticsearch analyzer (a built-in name, or "folding": standard +
# asciifolding) and the PostgreSQL text search config. "*" is every other language.
# "compounds": the language writes compounds as one word; searches over it match compound parts
# ("Blatt" finds "Datenblatt"; docs/search.md).
PORTAL_SEARCH_LANGUAGES = {
    "en": {"analyzer": "english", "postgres": "english"},
    "de": {"analyzer": "german", "postgres": "german", "compounds": True},
    "fr": {"analyzer": "french", "postgres": "french"},
    # Elasticsearch's czech analyzer; engines without it (osmem-server) index Czech with the
    # fallback. PostgreSQL ships no Czech text search configuration: "simple" (no stemming).
    "cs": {"analyzer": "czech", "fallback": "folding", "postgres": "simple"},
    "*": {"analyzer": "folding", "postgres": "simple"},
}
# The portal search backends. "default" answers; when it fails (SearchBackendError: down, or
# slower than PORTAL_SEARCH_TIMEOUT) its FALLBACK answers, and so on down the chain. Every
# backend of the chain is kept in step with the content (search/backends/__init__.py).
PORTAL_SEARCH_BACKENDS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "search.backends.database"}
}
# Wagtail's database backend, search text escaped for SQLite FTS5 (search/wagtail_backend.py)
WAGTAILSEARCH_BACKENDS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "search.wagtail_backend"}
}
if PORTAL_SEARCH_URL:
    PORTAL_SEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": [PORTAL_SEARCH_URL],
            "INDEX_PREFIX": PORTAL_SEARCH_INDEX_PREFIX,
            "TIMEOUT": PORTAL_SEARCH_TIMEOUT,
            "FALLBACK": "database",
        },
        "database": {"BACKEND": "search.backends.database"},
    }
    # Wagtail's elasticsearch8 backend, on the transport PORTAL_SEARCH_FLAVOR selects.
    WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.wagtail_elasticsearch",
            "URLS": [PORTAL_SEARCH_URL],
            "INDEX": f"{PORTAL_SEARCH_INDEX_PREFIX}-admin",
            "TIMEOUT": 5,
            "INDEX_SETTINGS": {"settings": {"index": {"number_of_shards": 1}}},
        }
    }

# Background work (indexing, renders, e-mails) goes through django-tasks; the embedded default runs
# tasks immediately (also under `make run`, whose worker then runs only the scheduled jobs:
# docs/scheduling.md, "Development"), production uses the database worker (portal_worker).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PORTAL_NEW_DAYS = 30
# The digest e-mail (digest/): sent at this hour of each user's own time zone (0-23); weekly
# digests on this weekday (0 = Monday). Each list names at most PORTAL_DIGEST_MAX_ITEMS items (the
# rest: "and N more on the portal"); a digest after a long pause looks back PORTAL_NEW_DAYS at
# most. The one-click switch-off link in each digest works for PORTAL_DIGEST_LINK_DAYS days.
PORTAL_DIGEST_HOUR = int(os.environ.get("PORTAL_DIGEST_HOUR", "7"))
PORTAL_DIGEST_WEEKDAY = int(os.environ.get("PORTAL_DIGEST_WEEKDAY", "0"))
PORTAL_DIGEST_MAX_ITEMS = int(os.environ.get("PORTAL_DIGEST_MAX_ITEMS", "20"))
PORTAL_DIGEST_LINK_DAYS = int(os.environ.get("PORTAL_DIGEST_LINK_DAYS", "180"))
PORTAL_PAGE_SIZE = 20
# Library listing: visible items counted exactly before the page says "More than N items"
# (bounded work per page; the pager still reaches every item).
PORTAL_LISTING_EXACT_LIMIT = int(os.environ.get("PORTAL_LISTING_EXACT_LIMIT", "500"))

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
# permissions/policies/, never through user.has_perm().
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]

# --- Content-Security-Policy (django-csp; kb.middleware.PortalCSPMiddleware) -------------------
# Portal pages: scripts and styles from our own static files only (no inline script, no inline
# style, no style= attributes, no on* handlers). Images may come from the object store: on S3
# an item image answers with a redirect to a presigned URL of the bucket.
PORTAL_CSP_IMAGE_ORIGINS = ["'self'", "data:"]
if PORTAL_S3:
    from urllib.parse import urlsplit as _urlsplit

    for _store in [PORTAL_S3, *PORTAL_STORAGE_REGIONS.values()]:
        _endpoint = _store.get("endpoint_url")
        if _endpoint:
            _parts = _urlsplit(_endpoint)
            PORTAL_CSP_IMAGE_ORIGINS.append(f"{_parts.scheme}://{_parts.netloc}")
            if PORTAL_S3["addressing_style"] != "path":
                PORTAL_CSP_IMAGE_ORIGINS.append(f"{_parts.scheme}://*.{_parts.netloc}")
        else:
            PORTAL_CSP_IMAGE_ORIGINS.append("https://*.amazonaws.com")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": PORTAL_CSP_IMAGE_ORIGINS,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        # Wagtail's live preview shows portal pages in a same-origin frame of the admin.
        "frame-ancestors": ["'self'"],
    }
}
# The Wagtail admin (/admin/): Wagtail 8 renders inline <script> blocks (page editor, explorer,
# snippet forms), inline event handlers (image editor) and inline styles, so it allows inline
# script and style; no eval, and every origin stays this site's (checked in Chromium: none of
# the admin's pages needs more).
PORTAL_ADMIN_PATH_PREFIX = "/admin/"
PORTAL_ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": [*PORTAL_CSP_IMAGE_ORIGINS, "blob:"],
    }
}
# No third-party requests from editors' browsers: no Gravatar avatars (they send a hash of the
# e-mail address to gravatar.com) and no release check against releases.wagtail.org.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False

# --- ops: health endpoints and degrading on faults (issue #16; ops/, docs/deployment.md) --------
# /readyz answers 503 when one of these is down (of database, cache, search, storage); the others
# are reported but degrade instead (Redis: slower; engine: database search; storage: downloads).
PORTAL_READY_REQUIRED = [
    name.strip()
    for name in os.environ.get("PORTAL_READY_REQUIRED", "database").split(",")
    if name.strip()
]
# Seconds a readiness result is reused by the process (probes cost the dependencies a round trip).
PORTAL_READY_CACHE_SECONDS = float(os.environ.get("PORTAL_READY_CACHE_SECONDS", "2"))
# The longest a readiness probe of the engine may take (seconds).
PORTAL_READY_TIMEOUT = float(os.environ.get("PORTAL_READY_TIMEOUT", "2"))
# The Retry-After of the database's 503 page (seconds).
PORTAL_UNAVAILABLE_RETRY_AFTER = int(os.environ.get("PORTAL_UNAVAILABLE_RETRY_AFTER", "30"))
# Days the database task queue keeps a successful task's result (failed ones: twice as long);
# the hourly ops.housekeeping job deletes older ones, and expired sessions (ops/housekeeping.py).
PORTAL_TASK_RESULTS_DAYS = int(os.environ.get("PORTAL_TASK_RESULTS_DAYS", "14"))
# Minutes after which a task still running counts as abandoned (its worker died) and is queued
# again by ops.housekeeping; longer than any task takes (seconds today).
PORTAL_TASK_LEASE_MINUTES = int(os.environ.get("PORTAL_TASK_LEASE_MINUTES", "60"))
