"""WSGI application of the browser page benchmark (bench/pages.py): the portal's, with Django's
static files handler in front (DEBUG is off, and the pages' CSS and scripts must load as they
would from the deployment's static server; the plain page loads none)."""

import os

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.pages_settings")
application = StaticFilesHandler(get_wsgi_application())
