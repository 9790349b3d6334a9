"""Settings of the load benchmark's server (bench/load.py): the production settings, unchanged,
plus one URL for the ceiling page (bench/load_urls.py). Never used outside the benchmark."""

from portal_site.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
