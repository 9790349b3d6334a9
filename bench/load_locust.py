"""The load driver of bench/load.py (locust, headless): signed-in partner sessions, 1 s think time.

Not meant to be run by hand: bench/load.py starts it as
``locust -f bench/load_locust.py PortalPartner|PlainPartner --headless -u N ...`` with these
environment variables:

* ``LOAD_CATALOGUE`` - JSON written by bench/load.py: the partner accounts, and for each the items
  and file downloads it may see and the number of library pages; the search terms.
* ``LOAD_USERS`` - N, the number of sessions; ``LOAD_DURATION`` - seconds measured;
  ``LOAD_OUT`` - where the results go (JSON); ``LOAD_SERVER_PID`` - gunicorn's master (or several,
  comma-separated: one per node): the CPU time its workers spend in the window is reported (CPU
  per request is steadier than latency on a machine shared with other jobs).
* ``LOAD_THINK`` - each session's think time in seconds between two requests (default 1; 0 is a
  closed loop: the saturation measurement).
* ``LOAD_HOSTS`` - optional, comma-separated base URLs (one per gunicorn node): session i talks
  to node i mod n for all its requests (its login included: the session lives in the shared
  database and Redis, so any node could serve it). Unset: locust's ``--host``.

Every session logs in once (a demo partner account; several sessions may share an account). The
measured window opens when all N sessions are logged in, so the password hashing of the logins
does not count against the pages, and closes after ``LOAD_DURATION`` seconds. Every response time
in the window is kept (not locust's rounded histogram), per page type. A response is an error when
its status is not the expected one (a redirect to the login page included) or its body is wrong.

The server runs the production settings behind no proxy: each request says
``X-Forwarded-Proto: https``, and the session's cookies are sent by hand (they are Secure: a cookie
jar keeps them off the loopback's plain HTTP).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import gevent
import psutil
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

CATALOGUE = json.loads(Path(os.environ["LOAD_CATALOGUE"]).read_text())
USERS = int(os.environ["LOAD_USERS"])
DURATION = float(os.environ["LOAD_DURATION"])
OUT = Path(os.environ["LOAD_OUT"])
SERVER_PIDS = [int(p) for p in (os.environ.get("LOAD_SERVER_PID") or "").split(",") if p]
THINK = float(os.environ.get("LOAD_THINK") or 1)
HOSTS = [h.rstrip("/") for h in (os.environ.get("LOAD_HOSTS") or "").split(",") if h]
HEADERS = {"X-Forwarded-Proto": "https"}

_accounts = itertools.cycle(CATALOGUE["accounts"])
_hosts = itertools.cycle(HOSTS) if HOSTS else None
window = Event()
state: dict = {
    "started": 0,
    "start": None,
    "end": None,
    "login_ms": [],
    "login_errors": [],
    "server_cpu_s": None,
}
times: dict[str, list[float]] = defaultdict(list)
errors: dict[str, int] = defaultdict(int)
error_samples: list[str] = []


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    """Keep each response time of the measured window, per page type."""
    if state["start"] is None or state["end"] is not None:
        return
    if exception is not None:
        errors[name] += 1
        if len(error_samples) < 20:
            error_samples.append(f"{name}: {exception}")
    else:
        times[name].append(response_time)


def _server_cpu() -> float:
    """CPU seconds (user + system) of gunicorn's workers so far (every node's), recycled workers
    included."""
    seconds = 0.0
    for pid in SERVER_PIDS:
        master = psutil.Process(pid)
        own = master.cpu_times()
        seconds += own.children_user + own.children_system  # workers that exited and were reaped
        for process in master.children(recursive=True):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue  # exiting right now: counted by the next reading of the master
            seconds += times.user + times.system
    return seconds


def _measure(environment) -> None:
    cpu_before = _server_cpu()
    state["start"] = time.time()
    window.set()
    gevent.sleep(DURATION)
    state["end"] = time.time()
    state["server_cpu_s"] = _server_cpu() - cpu_before
    environment.runner.quit()


@events.quitting.add_listener
def _write(environment, **_kwargs):
    OUT.write_text(
        json.dumps(
            {
                "users": USERS,
                "window_s": (state["end"] or time.time()) - (state["start"] or time.time()),
                "complete": state["end"] is not None,
                "login_ms": state["login_ms"],
                "login_errors": state["login_errors"],
                "server_cpu_s": state["server_cpu_s"],
                "times_ms": {name: sorted(values) for name, values in times.items()},
                "errors": dict(errors),
                "error_samples": error_samples,
            }
        )
    )


class _Partner(FastHttpUser):
    abstract = True
    wait_time = constant(THINK)

    def on_start(self) -> None:
        self.account = next(_accounts)
        # This session's node: every URL it asks for is absolute on it (locust's client keeps a
        # persistent connection per host).
        self.base = next(_hosts) if _hosts is not None else ""
        try:
            self._login()
        except Exception as exc:  # noqa: BLE001 - reported, and the run fails on it
            state["login_errors"].append(f"{self.account['email']}: {exc}")
            self._arrived()
            raise StopUser() from exc
        self._arrived()
        window.wait()
        # Spread the sessions over the first think time instead of firing in lockstep.
        gevent.sleep(random.random())

    def _arrived(self) -> None:
        state["started"] += 1
        if state["started"] == USERS:
            gevent.spawn(_measure, self.environment)

    def _remember(self, response) -> None:
        for value in response.headers.get_all("set-cookie") or []:
            for morsel in SimpleCookie(value).values():
                self.cookies[morsel.key] = morsel.value
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.headers = {**HEADERS, "Cookie": cookie}

    def _login(self) -> None:
        self.cookies: dict[str, str] = {}
        self.headers = dict(HEADERS)
        origin = re.sub(r"^http:", "https:", (self.base or self.host or "").rstrip("/"))
        form = self.client.get(
            f"{self.base}/login/", headers=self.headers, name="setup: login form"
        )
        form.raise_for_status()
        self._remember(form)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text or "")
        if found is None:
            raise RuntimeError("no CSRF token in the login form")
        token = found.group(1)
        started = time.perf_counter()
        with self.client.post(
            f"{self.base}/login/",
            data={
                "username": self.account["email"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={**self.headers, "Origin": origin, "Referer": f"{origin}/login/"},
            allow_redirects=False,
            name="setup: login",
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/login/" in response.headers.get("Location", ""):
                response.failure(f"login answered {response.status_code}")
                raise RuntimeError(f"login answered {response.status_code}")
            self._remember(response)
        state["login_ms"].append((time.perf_counter() - started) * 1000)
        home = self.client.get(
            f"{self.base}/", headers=self.headers, allow_redirects=False, name="setup: home"
        )
        # A partner reading German is sent to /de/: measure the home they really use.
        headers = home.headers
        if home.status_code == 302 and headers is not None:
            # The path only: an absolute Location (the proxy's name) must not leave this node.
            self.home_url = urlsplit(str(headers.get("Location", "/"))).path or "/"
        else:
            self.home_url = "/"

    def fetch(self, url: str, name: str, check=None) -> None:
        with self.client.get(
            f"{self.base}{url}",
            headers=self.headers,
            allow_redirects=False,
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                where = response.headers.get("Location", "")
                response.failure(f"{url} answered {response.status_code} {where}".strip())
            elif check is not None and not check(response):
                response.failure(f"{url}: unexpected body")


class PortalPartner(_Partner):
    """The portal mix: home, library (page 1 or a later page), item, file download, search."""

    @task(2)
    def home(self) -> None:
        self.fetch(self.home_url, "home")

    @task(3)
    def library(self) -> None:
        pages = self.account["library_pages"]
        page = 1 if pages < 2 or random.random() < 0.5 else random.randint(2, pages)
        self.fetch(f"/library/?page={page}", "library")

    @task(3)
    def item(self) -> None:
        self.fetch(random.choice(self.account["items"]), "item")

    @task(1)
    def download(self) -> None:
        self.fetch(
            random.choice(self.account["downloads"]),
            "download",
            lambda r: bool(r.content) and "attachment" in r.headers.get("Content-Disposition", ""),
        )

    @task(2)
    def search(self) -> None:
        term = random.choice(CATALOGUE["search_terms"])
        self.fetch(f"/search/?q={term}", "search")


class PlainPartner(_Partner):
    """The ceiling: the same sessions on a plain Wagtail page of the same server."""

    @task
    def plain(self) -> None:
        self.fetch(CATALOGUE["plain_url"], "plain")
