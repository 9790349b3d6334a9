"""gunicorn settings for the portal: ``gunicorn -c portal_site/gunicorn.conf.py portal_site.wsgi``.

Used by the production leg of CI (.ci/production.sh), bench/load.py and docs/deployment.md. Each
value can be changed by an environment variable, and any gunicorn option given on the command line
wins over this file. Figures behind the defaults: docs/performance.md, "Load (gunicorn, production
settings)".
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads, not only processes: a request spends much of its time waiting for PostgreSQL, Redis or
# a file, and threads share one process's memory. WEB_CONCURRENCY is the usual name for the count.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A 200 MB download or a slow client must not be killed mid-stream; the proxy times out first.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak (a library's, or ours) cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Several gunicorns share one host in CI and in the benchmarks; the control socket's single
# default path ($HOME/.gunicorn/gunicorn.ctl) would be fought over and is not used.
control_socket_disable = True
# The reverse proxy on the same host sets X-Forwarded-Proto; Django trusts it through
# SECURE_PROXY_SSL_HEADER, gunicorn through this list (its default: the loopback).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# "-" writes the access log to stdout; unset, only errors are logged (to stderr).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
