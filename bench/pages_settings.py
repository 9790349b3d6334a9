"""Settings of the browser page benchmark's server (bench/pages.py): the development settings
with DEBUG off (templates, error handling and logging as users get them) and the plain page's
URL (bench/load_urls.py). Never used outside the benchmark."""

from portal_site.settings.dev import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.load_urls"
