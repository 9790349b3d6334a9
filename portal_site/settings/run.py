"""`make run`: the demo served as users see it (issue #14).

DEBUG off, so a hidden or missing page shows the portal's designed 404 (not Django's debug page
with the URL list) and a failure the designed 500. Static files are served by runserver's
static handler (`runserver --insecure`, Makefile): the same files, from the same finders, as
`make dev`; production serves them from its reverse proxy after collectstatic
(docs/deployment.md), so no extra package is needed for the demo. `make dev` keeps Django's
debug pages (settings.dev).
"""

from .dev import *  # noqa: F403

DEBUG = False
# A demo-only key (as dev's): production.py never falls back to it (it requires
# DJANGO_SECRET_KEY).
SECRET_KEY = "demo-only-insecure-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
