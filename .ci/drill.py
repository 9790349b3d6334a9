"""The fault drill (issue #16): two portal nodes and two task workers under partner load while
their dependencies fail one after another; then what must hold afterwards is checked.

    .venv/bin/python .ci/drill.py              (`make drill`: local files, no gateway fault)
    .ci/ceph.sh run .venv/bin/python .ci/drill.py --s3   (CI's drill leg: files on Ceph S3)

What runs (all on 127.0.0.1, all started here and stopped here by pid, also on failure):

- a fresh PostgreSQL database ``drill_ci`` (dropped and created), migrated and seeded with the
  demo under the PRODUCTION settings (``portal_site.settings.production``, secrets from the
  environment as .ci/production.sh sets them);
- the drill's own ``redis-server`` (no persistence) and its own osmem-server (the search engine,
  ``PORTAL_SEARCH_FLAVOR=opensearch``): never the machine's shared services;
- a small SMTP server in this process that speaks STARTTLS with a throw-away certificate (the
  production settings send mail over TLS only; the workers trust the certificate through
  ``SSL_CERT_FILE``): every digest e-mail arrives here and is counted per recipient;
- gunicorn nodes A and B (portal_site/gunicorn.conf.py, 2 workers x 4 threads each, each in a
  process group of its own) and two ``manage.py portal_worker`` processes.

The load: every demo partner logs in ONCE (half on node A, half on B) and then browses (home,
library, items, downloads, search, suggestions, profile) and writes (profile time zone, share
links) until the window ends; an editor unpublishes and publishes items in the admin so the index
has work. A client-side load balancer sends a session whose node refuses connections to the other
node with the same cookies: no session may meet a login page again.

The faults, in order, with load throughout: node A killed (SIGKILL to its process group: master
and workers; it stays dead), Redis stopped for 10 s (shut down and started again empty on the
same port), every connection of ``drill_ci`` terminated (pg_terminate_backend filtered by
datname), the engine stopped for 10 s (SIGSTOP/SIGCONT: osmem-server keeps its index in memory,
so a restarted one would come back empty), the connections terminated a second time, and with
``--s3`` the RADOS gateway stopped for 10 s (SIGSTOP/SIGCONT of the pid ceph.sh wrote).

Scheduled jobs: ``pages.publish_scheduled`` comes due every minute by itself; ``digest.send_due``
(15 min), ``search.outbox_drain`` (5 min) and ``ops.housekeeping`` (1 h) are made due inside
the window by moving their ``next_run_at`` (what an operator's "run now" does), and every partner
is subscribed to the daily digest with their last digest a week ago, so each is due exactly once.

Afterwards (workers left to recover: the outbox drained, tasks done) the drill asserts, and exits
1 on any failure: no raw 500 (a 5xx without ``X-Portal-Unavailable`` is a failure; the designed
503s are counted), no session saw a login page, no unexpected traceback in any log, every job
run due in the window ran exactly once (claims observed = runs recorded, none failed, none left
running), every partner got exactly one digest, the engine holds exactly the live items of the
database, and every write that was answered as a success is in the database. It prints a figure
table (docs/performance.md, "Fault drill") and its wall time.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = os.environ.get("PYTHON_BIN") or str(ROOT / ".venv" / "bin" / "python")
PG = os.environ.get("PGHOST_URL", "postgresql://postgres@127.0.0.1:5432")
DB = os.environ.get("DRILL_DB", "drill_ci")
DESIGNED = "X-Portal-Unavailable"
EDITOR = ("admin@vendor.example", "demo-admin-2026")
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[drill {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """Everything the drill starts, stopped by pid (process group for gunicorn) on exit."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen, bool]] = []
        self.stopped: set[int] = set()  # pids under SIGSTOP: continued before they are stopped
        self.cleanups: list = []

    def start(self, name: str, args: list[str], logfile: Path, env: dict, *, group=False):
        out = open(logfile, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603 - the drill's own commands
            args,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=group,
        )
        out.close()
        self.procs.append((name, proc, group))
        return proc

    def pause(self, pid: int) -> None:
        os.kill(pid, signal.SIGSTOP)
        self.stopped.add(pid)

    def resume(self, pid: int) -> None:
        os.kill(pid, signal.SIGCONT)
        self.stopped.discard(pid)

    def stop_all(self) -> None:
        for pid in list(self.stopped):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.stopped.clear()
        for _name, proc, group in reversed(self.procs):
            if proc.poll() is None:
                try:
                    if group:
                        os.killpg(proc.pid, signal.SIGTERM)
                    else:
                        proc.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for name, proc, group in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} (pid {proc.pid}) did not stop on SIGTERM: SIGKILL")
                try:
                    if group:
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:
                        proc.kill()
                except ProcessLookupError:
                    pass
                proc.wait()
            if group:  # gunicorn workers orphaned by a killed master
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.procs.clear()
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001 - the rest must still be stopped
                log(f"cleanup failed: {exc!r}")
        self.cleanups.clear()


PROCS = Processes()


def wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s"
                ) from None
            time.sleep(0.1)


# --- the SMTP sink (STARTTLS) ------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[float, list[str], bytes]] = []

    def add(self, recipients: list[str], data: bytes) -> None:
        with self.lock:
            self.messages.append((time.monotonic(), recipients, data))


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for Django's SMTP backend: EHLO, STARTTLS, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        server: SMTPSink = self.server  # type: ignore[assignment]
        sock = self.connection
        rfile, wfile = self.rfile, self.wfile
        tls = False
        sender, recipients = "", list[str]()

        def say(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say("220 drill ESMTP")
        while True:
            raw = rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                extensions = ["8BITMIME", "SMTPUTF8"] + ([] if tls else ["STARTTLS"])
                for ext in ["drill", *extensions[:-1]]:
                    say(f"250-{ext}")
                say(f"250 {extensions[-1]}")
            elif line.upper() == "STARTTLS":
                say("220 ready")
                sock = server.tls.wrap_socket(sock, server_side=True)
                rfile, wfile = sock.makefile("rb"), sock.makefile("wb")
                tls = True
            elif verb == "MAIL":
                if not tls:
                    say("530 STARTTLS first")
                    continue
                sender, recipients = line, []
                say("250 ok")
            elif verb == "RCPT":
                recipients.append(re.sub(r"^RCPT TO:\s*<?([^>]*)>?.*$", r"\1", line, flags=re.I))
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                chunks = []
                while True:
                    chunk = rfile.readline(1 << 20)
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.mailbox.add([r.lower() for r in recipients], b"".join(chunks))
                say("250 queued")
                sender, recipients = "", []
            elif verb in ("RSET", "NOOP"):
                say("250 ok")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not implemented")
        del sender


class SMTPSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, cert: Path, key: Path) -> None:
        self.mailbox = Mailbox()
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(cert, key)
        super().__init__(("127.0.0.1", port), SMTPHandler)


# --- HTTP client with a client-side load balancer ----------------------------------------------


@dataclass
class Record:
    started: float
    ended: float
    session: str
    node: str
    method: str
    kind: str
    status: int  # 0: no HTTP answer (connection refused/reset)
    designed: bool = False
    login: bool = False
    error: str = ""
    path: str = ""
    body: str = ""


class Balancer:
    """The nodes and which of them refuse connections (as a load balancer's health view)."""

    def __init__(self, nodes: dict[str, int]) -> None:
        self.nodes = nodes
        self.down: set[str] = set()
        self.lock = threading.Lock()

    def other(self, node: str) -> str:
        return next(n for n in self.nodes if n != node)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[Record] = []

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


class NoAnswer(Exception):
    """No HTTP answer (refused, reset, timeout): the outcome of a write is unknown."""


class Session:
    """One browser: its own cookies (sent by hand: they are Secure and this is plain HTTP on the
    loopback, behind no proxy; X-Forwarded-Proto says https as nginx would)."""

    def __init__(self, name: str, node: str, balancer: Balancer, recorder: Recorder) -> None:
        self.name = name
        self.node = node
        self.home_node = node
        self.balancer = balancer
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.logged_in_at: float | None = None

    def _once(self, node: str, method: str, path: str, body: str | None, headers: dict):
        port = self.balancer.nodes[node]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        host = f"127.0.0.1:{port}"
        send = {"Host": host, "User-Agent": "portal-drill", "X-Forwarded-Proto": "https", **headers}
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            send["Content-Type"] = "application/x-www-form-urlencoded"
            send["Origin"] = f"https://{host}"
            send["Referer"] = f"https://{host}{path}"
        try:
            conn.request(method, path, body=body, headers=send)
            raw = conn.getresponse()
            return raw.status, raw.headers, raw.read()
        finally:
            conn.close()

    def _record_unanswered(
        self, started: float, node: str, method: str, kind: str, path: str, error: str
    ) -> None:
        """Record a request that got no HTTP answer (status 0): refused or lost mid-request."""
        self.recorder.add(
            Record(
                started, time.monotonic(), self.name, node, method, kind, 0, error=error, path=path
            )
        )

    def request(self, method: str, path: str, *, kind: str, data: dict | None = None):
        """One request through the balancer; returns (status, headers, body) or raises NoAnswer.
        A refused connection goes to the other node with the same cookies (nothing was sent);
        a connection lost after sending is not retried (the LB cannot know what happened)."""
        body = urlencode(data) if data is not None else None
        for _ in range(2):
            node = self.node
            started = time.monotonic()
            try:
                status, headers, content = self._once(node, method, path, body, {})
            except ConnectionRefusedError:
                self._record_unanswered(started, node, method, kind, path, "refused")
                with self.balancer.lock:
                    self.balancer.down.add(node)
                self.node = self.balancer.other(node)
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._record_unanswered(started, node, method, kind, path, type(exc).__name__)
                raise NoAnswer(f"{type(exc).__name__} from node {node}") from exc
            ended = time.monotonic()
            for value in headers.get_all("Set-Cookie") or []:
                for morsel in SimpleCookie(value).values():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(morsel.key, None)
                    else:
                        self.cookies[morsel.key] = morsel.value
            location = headers.get("Location") or ""
            login = self.logged_in_at is not None and (
                "/login/" in urlsplit(location).path
                or (
                    status == 200
                    and 'name="password"' in content.decode("utf-8", "replace")
                    and "/login/" in path
                )
            )
            record = Record(
                started,
                ended,
                self.name,
                node,
                method,
                kind,
                status,
                designed=bool(headers.get(DESIGNED)),
                login=login,
                path=path,
            )
            if status >= 500 and not record.designed:
                record.body = content.decode("utf-8", "replace")[:1500]
            self.recorder.add(record)
            return status, headers, content
        raise NoAnswer("both nodes refuse connections")

    def get(self, path: str, *, kind: str, follow: int = 3):
        status, headers, content = self.request("GET", path, kind=kind)
        while follow and status in (301, 302, 303) and headers.get("Location"):
            target = urljoin(f"https://127.0.0.1{path}", headers["Location"])
            parts = urlsplit(target)
            if parts.port not in (None, 443) or "/login/" in parts.path:
                break  # an S3 presigned URL, or the login page (already recorded)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            status, headers, content = self.request("GET", path, kind=kind)
            follow -= 1
        return status, headers, content

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def login(self, path: str, email: str, password: str) -> None:
        status, _, content = self.request("GET", path, kind="login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content.decode())
        if status != 200 or token is None:
            raise SystemExit(f"{self.name}: no login form at {path} ({status})")
        status, headers, _ = self.request(
            "POST",
            path,
            kind="login",
            data={"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"{self.name}: login at {path} answered {status}")
        self.logged_in_at = time.monotonic()


def links(content: bytes, pattern: str) -> list[str]:
    found = re.findall(r'(?:href|src)="(/[^"#]*)"', content.decode("utf-8", "replace"))
    return list(dict.fromkeys(h.replace("&amp;", "&") for h in found if re.search(pattern, h)))


ITEM = r"^(?:/[a-z]{2}(?:-[a-z]+)?)?/library/.+/$"
FILE = r"^/portal/items/\d+/files/\d+/"
TIME_ZONES = [
    "Europe/Berlin",
    "Europe/Prague",
    "UTC",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Paris",
    "Asia/Singapore",
    "America/Sao_Paulo",
]
WORDS = [
    "router",
    "datasheet",
    "brochure",
    "x1",
    "switch",
    "firewall",
    "edge",
    "promo",
    "install",
    "guide",
    "cloud",
    "partner",
]


@dataclass
class Writes:
    """Writes answered as a success (and those whose answer never came: outcome unknown)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    time_zone: dict[str, list[tuple[float, str, bool]]] = field(default_factory=dict)
    shares: list[tuple[str, str]] = field(default_factory=list)
    editor: list[tuple[float, int, bool, bool]] = field(default_factory=list)  # t, page, live, ok
    failed: collections.Counter = field(default_factory=collections.Counter)


def object_fetch(session: Session, target) -> None:
    """Follow a download's redirect to the object store (a presigned S3 URL) as the browser
    would: no cookies, straight to the gateway. Recorded as kind "object" (not a portal answer)."""
    started = time.monotonic()
    path = target.path + (f"?{target.query}" if target.query else "")
    try:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Host": target.netloc})
            response = conn.getresponse()
            response.read()
            status, error = response.status, ""
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as exc:
        status, error = 0, type(exc).__name__
    session.recorder.add(
        Record(
            started,
            time.monotonic(),
            session.name,
            "S3",
            "GET",
            "object",
            status,
            error=error,
            path=target.path,
        )
    )


def partner_loop(session: Session, email: str, stop: threading.Event, writes: Writes) -> None:
    rng = random.Random(email)  # noqa: S311 - load, not secrets
    items: list[str] = []
    files: list[str] = []
    share_ids: list[int] = []
    actions = (
        ["home"] * 3
        + ["library"] * 3
        + ["item"] * 4
        + ["download"] * 2
        + ["search"] * 3
        + ["suggest"]
        + ["profile"]
        + ["tz"]
        + ["share"]
    )
    n = 0
    while not stop.is_set():
        n += 1
        action = rng.choice(actions)
        try:
            if action == "home" or (action in ("item", "download") and not items):
                session.get("/", kind="home")
            elif action == "library" or (action == "download" and not files and not items):
                status, _, content = session.get("/library/", kind="library")
                if status == 200:
                    sections = links(content, r"^/library/[^?]+/$")
                    if sections:
                        status, _, content = session.get(rng.choice(sections), kind="library")
                        if status == 200:
                            for u in links(content, ITEM):
                                if u not in items and u.count("/") >= 4:
                                    items.append(u)
            elif action == "item" or (action == "download" and not files):
                status, _, content = session.get(rng.choice(items), kind="item")
                if status == 200:
                    files.extend(u for u in links(content, FILE) if u not in files)
                    share_ids.extend(
                        int(m)
                        for m in re.findall(rb"/portal/items/(\d+)/share/", content)
                        if int(m) not in share_ids
                    )
            elif action == "download":
                status, headers, _ = session.get(rng.choice(files), kind="download", follow=0)
                target = urlsplit(headers.get("Location") or "")
                if (
                    status == 302
                    and target.port
                    and target.port not in session.balancer.nodes.values()
                ):
                    object_fetch(session, target)
            elif action == "search":
                session.get(f"/search/?q={rng.choice(WORDS)}", kind="search")
            elif action == "suggest":
                session.get(f"/search/suggest/?q={rng.choice(WORDS)[:3]}", kind="suggest")
            elif action == "profile":
                session.get("/portal/account/profile/", kind="profile")
            elif action == "tz":
                zone = rng.choice(TIME_ZONES)
                status, _, content = session.get("/portal/account/profile/", kind="profile")
                if status != 200:
                    continue
                language = re.search(
                    rb'<option value="([^"]+)"[^>]*selected',
                    content.split(b'name="preferred_language"', 1)[-1],
                )
                data = {
                    "csrfmiddlewaretoken": session.csrf(),
                    "preferred_language": (language.group(1).decode() if language else "en"),
                    "time_zone": zone,
                    "digest_frequency": "daily",
                }
                if (
                    b'name="notify_new_versions"' in content
                    and b"checked" in content.split(b'name="notify_new_versions"', 1)[1][:200]
                ):
                    data["notify_new_versions"] = "on"
                t = time.monotonic()
                try:
                    status, headers, _ = session.request(
                        "POST", "/portal/account/profile/", kind="write", data=data
                    )
                except NoAnswer:
                    with writes.lock:
                        writes.time_zone.setdefault(email, []).append((t, zone, False))
                    raise
                ok = status == 302 and "/login/" not in (headers.get("Location") or "")
                with writes.lock:
                    if ok:
                        writes.time_zone.setdefault(email, []).append((t, zone, True))
                    else:
                        writes.failed[f"profile {status}"] += 1
            elif action == "share" and share_ids:
                label = f"drill {email} {n}"
                page_id = rng.choice(share_ids)
                try:
                    status, headers, _ = session.request(
                        "POST",
                        f"/portal/items/{page_id}/share/",
                        kind="write",
                        data={
                            "csrfmiddlewaretoken": session.csrf(),
                            "label": label,
                            "days": "7",
                            "password": "",
                        },
                    )
                except NoAnswer:
                    raise
                with writes.lock:
                    if status == 303:
                        writes.shares.append((email, label))
                    else:
                        writes.failed[f"share {status}"] += 1
        except NoAnswer:
            pass
        stop.wait(rng.uniform(0.3, 0.9))


def editor_loop(session: Session, pages: list[int], stop: threading.Event, writes: Writes) -> None:
    """Unpublish and publish items in turn through Wagtail's bulk actions (admin POSTs)."""
    rng = random.Random(7)  # noqa: S311 - load, not secrets
    live = dict.fromkeys(pages, True)
    while not stop.wait(rng.uniform(3, 5)):
        page = rng.choice(pages)
        action = "unpublish" if live[page] else "publish"
        path = f"/admin/bulk/wagtailcore/page/{action}/?id={page}&next=/admin/"
        t = time.monotonic()
        try:
            status, headers, _ = session.request(
                "POST", path, kind="editor", data={"csrfmiddlewaretoken": session.csrf()}
            )
        except NoAnswer:
            with writes.lock:
                writes.editor.append((t, page, not live[page], False))
            continue
        ok = status == 302 and headers.get("Location", "").endswith("/admin/")
        with writes.lock:
            if ok:
                live[page] = not live[page]
                writes.editor.append((t, page, live[page], True))
            else:
                writes.failed[f"editor {status}"] += 1


# --- the database side -------------------------------------------------------------------------


def db_url(name: str = DB) -> str:
    return f"{PG}/{name}"


def sql(query: str, *params, fetch: bool = True):
    with psycopg.connect(db_url(), autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if fetch else None


class JobWatcher(threading.Thread):
    """Polls the schedule table twice a second: every claim (a new last_run_at) is seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="job-watcher")
        self.stop = threading.Event()
        self.claims: dict[str, list[tuple[datetime, datetime]]] = collections.defaultdict(list)
        self.last: dict[str, tuple] = {}
        self.errors = 0

    def poll(self, conn) -> None:
        rows = conn.execute(
            "SELECT name, next_run_at, last_run_at FROM scheduling_scheduledjob"
        ).fetchall()
        for name, next_run_at, last_run_at in rows:
            previous = self.last.get(name)
            if previous is not None and last_run_at != previous[1] and last_run_at is not None:
                # A claim: the due time it served is the next_run_at seen before it.
                self.claims[name].append((previous[0], last_run_at))
            self.last[name] = (next_run_at, last_run_at)

    def run(self) -> None:
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(db_url(), autocommit=True, connect_timeout=5)
                self.poll(conn)
            except psycopg.Error:
                self.errors += 1
                conn = None  # terminated with the others: connect again
            self.stop.wait(0.5)
        if conn is not None:
            conn.close()


# --- the engine side ---------------------------------------------------------------------------


def engine_ids(url: str, prefix: str) -> dict[int, int]:
    """Item id -> how many live documents of it every locale alias of the engine holds."""
    import urllib.request

    def get(path: str, body: dict | None = None):
        req = urllib.request.Request(  # noqa: S310 - the engine's http:// address
            url + path,
            data=json.dumps(body).encode() if body else None,
            method="POST" if body else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    aliases = sorted(
        {
            alias
            for index in get("/_alias").values()
            for alias in index.get("aliases", {})
            if alias.startswith(f"{prefix}-items-") and not alias.endswith("-next")
        }
    )
    found: collections.Counter = collections.Counter()
    for alias in aliases:
        get(f"/{alias}/_refresh", {})
        hits = get(
            f"/{alias}/_search", {"size": 10000, "query": {"match_all": {}}, "_source": ["live"]}
        )["hits"]["hits"]
        for hit in hits:
            if (hit.get("_source") or {}).get("live", True) is not False:
                found[int(hit["_id"])] += 1
    return dict(found)


# --- the drill ---------------------------------------------------------------------------------


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Shutdown|Timeout|Warning)\b")
CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
# The exceptions the faults are expected to raise somewhere (a lost database connection, an
# unreachable Redis, engine or object store): logged, then answered with a retry, a fallback or
# a designed 503. The drill judges a traceback by the LAST exception of its chain.
TRANSIENT = re.compile(
    r"^(django\.db\.utils\.(OperationalError|InterfaceError)|psycopg\.\w*(OperationalError|"
    r"AdminShutdown)|psycopg\.errors\.AdminShutdown|redis\.exceptions\.(Connection|Timeout)"
    r"Error|elastic_transport\.(ConnectionTimeout|ConnectionError)|TimeoutError|"
    r"(urllib3\.exceptions\.)?(ReadTimeoutError|ConnectTimeoutError|ProtocolError)|"
    r"botocore\.exceptions\.(EndpointConnectionError|ReadTimeoutError|ConnectTimeoutError|"
    r"ConnectionClosedError)|files\.storage\.StorageUnavailable|"
    r"search\.backends\.base\.SearchBackendError)\b"
)


def tracebacks(path: Path) -> list[tuple[str, str]]:
    """(the chain's last exception line, the whole chain) for every traceback in a log; a chain
    ("During handling ...", "The above exception ...") is one traceback."""
    found: list[tuple[str, str]] = []
    block: list[str] = []
    last = ""
    lines = path.read_text("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            block.append(line)
            continue
        if not block:
            continue
        if line.startswith((" ", "\t")) or line.startswith(CHAIN) or line == "":
            block.append(line)
            continue
        if EXCEPTION_LINE.match(line):
            block.append(line)
            last = line
            # The chain goes on when the next non-blank line says so.
            following = next((n for n in lines[i + 1 : i + 3] if n.strip()), "")
            if following.startswith(CHAIN):
                continue
            found.append((last, "\n".join(block)))
            block, last = [], ""
            continue
        # Anything else ends a block that lost its exception line (truncated log).
        found.append((last or block[-1], "\n".join(block)))
        block, last = [], ""
    if block:
        found.append((last or block[-1], "\n".join(block)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--s3",
        action="store_true",
        help="files on S3 (run inside .ci/ceph.sh run) and stop the gateway too",
    )
    parser.add_argument("--window", type=float, default=95, help="seconds of load with faults")
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument("--http-port", type=int, default=8301, help="node A; node B is +1")
    parser.add_argument("--smtp-port", type=int, default=8390)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--engine-port", type=int, default=9301)
    args = parser.parse_args(argv)
    wall = time.monotonic()

    if args.s3 and not (os.environ.get("S3_BUCKET") and os.environ.get("CEPH_DIR")):
        raise SystemExit("--s3 runs inside `.ci/ceph.sh run` (S3_BUCKET and CEPH_DIR unset)")
    work = Path(tempfile.mkdtemp(prefix="portal-drill-"))
    logs = work / "logs"
    logs.mkdir()
    atexit.register(PROCS.stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(130))
    log(f"work folder {work} ({'files on Ceph S3' if args.s3 else 'local files'})")

    # --- services of its own ---
    cert, key = work / "smtp.pem", work / "smtp.key"
    subprocess.run(  # noqa: S603 - a fixed command
        [
            shutil.which("openssl") or "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    smtp = SMTPSink(args.smtp_port, cert, key)
    threading.Thread(target=smtp.serve_forever, daemon=True, name="smtp").start()
    PROCS.cleanups.append(smtp.shutdown)

    redis_args = [
        "redis-server",
        "--port",
        str(args.redis_port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    redis_proc = PROCS.start("redis", redis_args, logs / "redis.log", dict(os.environ))
    wait_port(args.redis_port, 10)

    from osmem_server import OsmemServer

    engine = OsmemServer.start(addr=f"127.0.0.1:{args.engine_port}", japanese=False)
    PROCS.cleanups.append(engine.close)
    log(
        f"redis-server pid {redis_proc.pid} on :{args.redis_port}, osmem-server pid "
        f"{engine.pid} on {engine.url}, SMTP (STARTTLS) on :{args.smtp_port}"
    )

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal_site.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PORTAL_BASE_URL=f"https://127.0.0.1:{args.http_port}",
        DATABASE_URL=db_url(),
        REDIS_URL=f"redis://127.0.0.1:{args.redis_port}/0",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(args.smtp_port),
        EMAIL_TIMEOUT="10",
        SSL_CERT_FILE=str(cert),
        DEFAULT_FROM_EMAIL="portal@example.com",
        MEDIA_ROOT=str(work / "media"),
        STATIC_ROOT=str(work / "static"),
        PORTAL_SEARCH_URL=engine.url,
        PORTAL_SEARCH_FLAVOR="opensearch",
        PORTAL_SEARCH_INDEX_PREFIX="drill",
        PYTHONUNBUFFERED="1",
    )
    if not args.s3:
        for name in ("S3_BUCKET", "PORTAL_STORAGE_REGIONS"):
            env.pop(name, None)

    t = time.monotonic()
    for step in (
        ["migrate", "--noinput", "-v", "0"],
        ["seed_demo", "--quiet"],
        ["rebuild_search_index", "--no-progress"],
    ):
        done = subprocess.run(  # noqa: S603 - the project's manage.py
            [PY, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode:
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"manage.py {step[0]} failed")
        log(f"manage.py {step[0]}: {time.monotonic() - t:.1f} s")
    setup_seconds = time.monotonic() - t
    log(f"migrate + seed_demo + rebuild_search_index: {setup_seconds:.1f} s")

    nodes = {"A": args.http_port, "B": args.http_port + 1}
    gunicorn = {}
    for name, port in nodes.items():
        gunicorn[name] = PROCS.start(
            f"gunicorn {name}",
            [
                PY,
                "-m",
                "gunicorn",
                "-c",
                "portal_site/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "portal_site.wsgi",
            ],
            logs / f"gunicorn-{name}.log",
            env,
            group=True,
        )
    workers = [
        PROCS.start(
            f"worker {i}",
            [
                PY,
                "manage.py",
                "portal_worker",
                "--no-startup-delay",
                "--interval",
                "0.5",
                "--schedule-interval",
                "2",
                "--worker-id",
                f"drill-{i}",
            ],
            logs / f"worker-{i}.log",
            env,
        )
        for i in (1, 2)
    ]
    balancer = Balancer(nodes)
    recorder = Recorder()
    for name, port in nodes.items():
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/readyz")
                status = c.getresponse().status
                c.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"node {name} not ready after 60 s (logs: {logs})")
            time.sleep(0.3)
    log(
        f"nodes A :{nodes['A']} (pid {gunicorn['A'].pid}) and B :{nodes['B']} "
        f"(pid {gunicorn['B'].pid}) ready; workers pids {[w.pid for w in workers]}"
    )

    # --- sessions: every partner logs in once; the editor too ---
    users = json.loads((ROOT / "demo/data/users.json").read_text())["users"]
    partners = [(u["email"], u["password"]) for u in users if u.get("organization")]
    sessions = [
        (Session(email.split("@")[0], "AB"[i % 2], balancer, recorder), email)
        for i, (email, _) in enumerate(partners)
    ]
    editor = Session("editor", "B", balancer, recorder)
    passwords = dict(partners)

    def sign_in(session: Session, email: str) -> None:
        """Log in once and put the daily digest on in the profile, as the partner would."""
        session.login("/login/", email, passwords[email])
        status, _, content = session.get("/portal/account/profile/", kind="profile")
        selected = rb'<option value="([^"]+)"[^>]*selected'
        language = re.search(selected, content.split(b'name="preferred_language"', 1)[-1])
        zone = re.search(selected, content.split(b'name="time_zone"', 1)[-1])
        status, _, _ = session.request(
            "POST",
            "/portal/account/profile/",
            kind="write",
            data={
                "csrfmiddlewaretoken": session.csrf(),
                "preferred_language": language.group(1).decode() if language else "en",
                "time_zone": zone.group(1).decode() if zone else "UTC",
                "digest_frequency": "daily",
            },
        )
        if status != 302:
            raise SystemExit(f"{email}: the profile did not save the daily digest ({status})")

    errors: list[BaseException] = []

    def guarded(fn, *a) -> None:
        try:
            fn(*a)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = time.monotonic()
    signing_in = [threading.Thread(target=guarded, args=(sign_in, s, e)) for s, e in sessions]
    signing_in.append(
        threading.Thread(target=guarded, args=(editor.login, "/admin/login/", *EDITOR))
    )
    for thread in signing_in:
        thread.start()
    for thread in signing_in:
        thread.join()
    if errors:
        raise SystemExit(f"signing in failed: {errors[0]}")
    log(f"{len(sessions)} partners and the editor logged in ({time.monotonic() - t:.1f} s)")
    week_ago = datetime.now(UTC) - timedelta(days=7)
    emails = [email for _, email in sessions]
    sql(
        "INSERT INTO digest_digestsubscription (user_id, last_sent_at) "
        "SELECT id, %s FROM accounts_user WHERE email = ANY(%s) "
        "ON CONFLICT (user_id) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at",
        week_ago,
        emails,
        fetch=False,
    )
    # The editor's items: live items of the library, none of them a section.
    editor_pages = [
        r[0]
        for r in sql(
            "SELECT p.id FROM wagtailcore_page p JOIN kb_portalitempage i ON i.page_ptr_id = p.id "
            "WHERE p.live ORDER BY p.id LIMIT 6"
        )
    ]
    # Every live item published again by the editor (one bulk action): each partner who sees
    # anything has news for the digest, so "exactly one digest each" does not hang on what the
    # seed happened to date recently.
    live_items = [
        r[0]
        for r in sql(
            "SELECT p.id FROM wagtailcore_page p JOIN kb_portalitempage i ON i.page_ptr_id = p.id "
            "WHERE p.live ORDER BY p.id"
        )
    ]
    t = time.monotonic()
    query = urlencode([("id", pk) for pk in live_items] + [("next", "/admin/")])
    status, headers, _ = editor.request(
        "POST",
        f"/admin/bulk/wagtailcore/page/publish/?{query}",
        kind="editor",
        data={"csrfmiddlewaretoken": editor.csrf()},
    )
    if status != 302:
        raise SystemExit(f"the editor's bulk publish answered {status}")
    log(
        f"the editor published all {len(live_items)} live items again "
        f"({time.monotonic() - t:.1f} s)"
    )
    watcher = JobWatcher()
    watcher.start()
    time.sleep(1)
    start_runs = {
        r[0]: (r[1], r[2])
        for r in sql("SELECT name, run_count, failure_count FROM scheduling_scheduledjob")
    }
    mail_before = len(smtp.mailbox.messages)

    # --- the window ---
    stop = threading.Event()
    writes = Writes()
    threads = [
        threading.Thread(target=partner_loop, args=(s, e, stop, writes), daemon=True)
        for s, e in sessions
    ]
    threads.append(
        threading.Thread(target=editor_loop, args=(editor, editor_pages, stop, writes), daemon=True)
    )
    window_start = time.monotonic()
    now = datetime.now(UTC)
    sql(
        "UPDATE scheduling_scheduledjob SET next_run_at = %s WHERE name = 'digest.send_due'",
        now + timedelta(seconds=36),
        fetch=False,
    )
    sql(
        "UPDATE scheduling_scheduledjob SET next_run_at = %s WHERE name = 'search.outbox_drain'",
        now + timedelta(seconds=47),
        fetch=False,
    )
    # The hourly housekeeping (expired sessions, old task results, abandoned tasks) ran when the
    # workers started: made due again just after the first termination of the connections.
    sql(
        "UPDATE scheduling_scheduledjob SET next_run_at = %s WHERE name = 'ops.housekeeping'",
        now + timedelta(seconds=40),
        fetch=False,
    )
    for thread in threads:
        thread.start()
    log(f"window of {args.window:.0f} s: {len(sessions)} partner sessions + 1 editor")

    faults: list[dict] = []

    def at(offset: float) -> None:
        delay = window_start + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def fault(name: str, begin, end=None, hold: float = 0, affected=None) -> None:
        started = time.monotonic()
        begin()
        if hold:
            time.sleep(hold)
        if end:
            end()
        faults.append(
            {"name": name, "start": started, "end": time.monotonic(), "affected": affected}
        )
        log(f"fault: {name} ({time.monotonic() - started:.1f} s)")

    def terminate_connections() -> None:
        killed = sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            DB,
        )[0][0]
        log(f"terminated {killed} connections of {DB}")

    def redis_restart() -> None:
        nonlocal redis_proc
        redis_proc = PROCS.start("redis", redis_args, logs / "redis.log", dict(os.environ))
        wait_port(args.redis_port, 10)

    def redis_stop() -> None:
        redis_proc.terminate()
        redis_proc.wait(10)

    a_sessions = {s.name for s, _ in sessions if s.home_node == "A"}
    at(10)
    fault(
        "node A killed (SIGKILL, master and workers)",
        lambda: os.killpg(gunicorn["A"].pid, signal.SIGKILL),
        affected=a_sessions,
    )
    at(20)
    fault("Redis stopped 10 s (restarted empty)", redis_stop, redis_restart, hold=10)
    at(38)
    fault("database connections terminated (1)", terminate_connections)
    at(45)
    fault(
        "engine stopped 10 s (SIGSTOP/SIGCONT)",
        lambda: PROCS.pause(engine.pid),
        lambda: PROCS.resume(engine.pid),
        hold=10,
    )
    at(62)
    fault("database connections terminated (2)", terminate_connections)
    if args.s3:
        rgw_pid = int((Path(os.environ["CEPH_DIR"]) / "run" / "client.rgw.a.pid").read_text())
        at(68)
        fault(
            "S3 gateway stopped 10 s (SIGSTOP/SIGCONT)",
            lambda: PROCS.pause(rgw_pid),
            lambda: PROCS.resume(rgw_pid),
            hold=10,
        )
    at(args.window)
    stop.set()
    for thread in threads:
        thread.join(70)
    window_end = time.monotonic()
    log(f"window over ({window_end - window_start:.0f} s); letting the workers recover")

    # --- recovery: the outbox drained, the queue empty, every job's run finished ---
    recovery_start = time.monotonic()
    deadline = recovery_start + 90
    while True:
        pending = sql("SELECT count(*) FROM portal_search_indexoutbox")[0][0]
        queued = sql(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status = 'RUNNING' OR (status = 'READY' AND "
            "(run_after IS NULL OR run_after <= now()))"
        )[0][0]
        running = sql(
            "SELECT count(*) FROM scheduling_scheduledjob WHERE running_since IS NOT NULL"
        )[0][0]
        if not (pending or queued or running):
            break
        if time.monotonic() > deadline:
            log(f"not recovered after 90 s: outbox {pending}, tasks {queued}, jobs {running}")
            break
        time.sleep(1)
    recovery_seconds = time.monotonic() - recovery_start
    time.sleep(1)
    watcher.stop.set()
    watcher.join(5)
    log(f"recovered in {recovery_seconds:.1f} s")

    # --- checks ---
    failures: list[str] = []
    records = list(recorder.records)
    objects = [r for r in records if r.kind == "object" and r.started >= window_start]
    in_window = [r for r in records if r.started >= window_start and r.kind != "object"]
    by_status = collections.Counter(r.status for r in in_window)
    designed = [r for r in in_window if r.status == 503 and r.designed]
    raw = [r for r in in_window if r.status >= 500 and not r.designed]
    logins = [r for r in records if r.login]
    no_answer = [r for r in in_window if r.status == 0]
    refused = [r for r in no_answer if r.error == "refused"]
    lost = [r for r in no_answer if r.error != "refused"]
    for r in raw[:5]:
        failures.append(f"raw {r.status} on {r.method} {r.path} (node {r.node}):\n{r.body[:800]}")
    if raw:
        failures.append(f"{len(raw)} raw 5xx answers")
    if logins:
        failures.append(
            f"{len(logins)} answers sent a logged-in session to the login page, "
            f"e.g. {logins[0].session} {logins[0].path}"
        )
    for name, proc in [
        ("gunicorn B", gunicorn["B"]),
        ("worker 1", workers[0]),
        ("worker 2", workers[1]),
    ]:
        if proc.poll() is not None:
            failures.append(f"{name} exited ({proc.returncode})")
    kill = faults[0]
    if not all(r.node == "B" for r in in_window if r.started > kill["end"] + 1 and r.status):
        failures.append("a request was answered by node A after it was killed")

    # tracebacks
    expected_tb: collections.Counter = collections.Counter()
    unexpected_tb: list[str] = []
    for path in sorted(logs.glob("*.log")):
        for last, block in tracebacks(path):
            if TRANSIENT.match(last):
                expected_tb[last.split(":")[0]] += 1
            else:
                unexpected_tb.append(f"{path.name}: {block[-2500:]}")
    if unexpected_tb:
        failures.append(f"{len(unexpected_tb)} unexpected tracebacks in the logs")

    # scheduled jobs
    jobs = {
        r[0]: r[1:]
        for r in sql(
            "SELECT name, run_count, failure_count, running_since, next_run_at, last_error "
            "FROM scheduling_scheduledjob"
        )
    }
    job_rows = []
    for name, (runs, failed, running_since, next_run_at, last_error) in sorted(jobs.items()):
        before_runs, before_failed = start_runs.get(name, (0, 0))
        claims = watcher.claims.get(name, [])
        due_times = [due for due, _ in claims]
        late = max(((claimed - due).total_seconds() for due, claimed in claims), default=0)
        ran = runs - before_runs
        job_rows.append((name, len(claims), ran, failed - before_failed, late))
        if ran != len(claims):
            failures.append(f"job {name}: {len(claims)} claims seen but {ran} runs recorded")
        if len(set(due_times)) != len(due_times):
            failures.append(f"job {name}: a due time was claimed twice")
        if failed != before_failed:
            failures.append(
                f"job {name}: {failed - before_failed} failed runs: {last_error[-600:]}"
            )
        if running_since is not None:
            failures.append(f"job {name}: still marked running since {running_since}")
        if next_run_at < datetime.now(UTC) - timedelta(seconds=30):
            failures.append(f"job {name}: overdue since {next_run_at} (not run)")
        if not claims:
            failures.append(f"job {name}: never ran in the window")
    # digests: every partner exactly one
    sent: collections.Counter[str] = collections.Counter()
    for _, recipients, _data in smtp.mailbox.messages[mail_before:]:
        for recipient in recipients:
            sent[recipient] += 1
    digest_subjects = {
        message_from_bytes(d)["Subject"] for _, _, d in smtp.mailbox.messages[mail_before:]
    }
    # A member of a suspended organisation sees nothing, so their digest has nothing to tell
    # and sends no e-mail (their run still happens: last_sent_at moves).
    organizations = json.loads((ROOT / "demo/data/organizations.json").read_text())
    suspended_orgs = {
        o["key"] for o in organizations["organizations"] if o.get("status") == "suspended"
    }
    silent = {u["email"] for u in users if u.get("organization") in suspended_orgs}
    missing = [e for e in emails if sent.get(e, 0) == 0 and e not in silent]
    mailed_silent = [e for e in silent if sent.get(e, 0)]
    if mailed_silent:
        failures.append(f"members of suspended organisations got e-mail: {mailed_silent}")
    not_run = [
        r[0]
        for r in sql(
            "SELECT u.email FROM accounts_user u JOIN digest_digestsubscription s "
            "ON s.user_id = u.id WHERE u.email = ANY(%s) AND s.last_sent_at <= %s",
            emails,
            week_ago,
        )
    ]
    if not_run:
        failures.append(f"the digest run never covered {not_run}")
    twice = {e: n for e, n in sent.items() if n > 1}
    if missing:
        failures.append(f"no digest for {len(missing)} partners: {missing}")
    if twice:
        failures.append(f"more than one e-mail for {twice}")

    # the engine against the database
    live = {
        r[0]
        for r in sql(
            "SELECT p.id FROM wagtailcore_page p JOIN kb_portalitempage i ON i.page_ptr_id = p.id "
            "WHERE p.live"
        )
    }
    in_engine = engine_ids(engine.url, "drill")
    absent = sorted(live - set(in_engine))
    extra = sorted(set(in_engine) - live)
    doubled = sorted(i for i, n in in_engine.items() if n > 1)
    if absent:
        failures.append(f"{len(absent)} live items missing from the engine: {absent[:20]}")
    if extra:
        failures.append(f"{len(extra)} items in the engine that are not live: {extra[:20]}")
    if doubled:
        failures.append(f"items in more than one locale index: {doubled[:20]}")

    # committed writes
    zones = dict(sql("SELECT email, time_zone FROM accounts_user WHERE email = ANY(%s)", emails))
    tz_checked = 0
    for email, attempts in writes.time_zone.items():
        oks = [a for a in attempts if a[2]]
        if not oks:
            continue
        last_ok = oks[-1]
        # A later write whose answer never came may have committed too: either value is right.
        later_unknown = {z for t, z, ok in attempts if not ok and t > last_ok[0]}
        tz_checked += 1
        if zones.get(email) != last_ok[1] and zones.get(email) not in later_unknown:
            failures.append(f"{email}: time zone {zones.get(email)!r}, last saved {last_ok[1]!r}")
    labels = {r[0] for r in sql("SELECT label FROM sharing_sharelink WHERE label LIKE 'drill %%'")}
    lost_shares = [label for _, label in writes.shares if label not in labels]
    if lost_shares:
        failures.append(f"{len(lost_shares)} share links answered 303 are missing: {lost_shares}")
    page_live = dict(sql("SELECT id, live FROM wagtailcore_page WHERE id = ANY(%s)", editor_pages))
    editor_ok = [w for w in writes.editor if w[3]]
    for page in editor_pages:
        mine = [w for w in writes.editor if w[1] == page]
        done_ok = [w for w in mine if w[3]]
        if not done_ok:
            continue
        unknown_after = any(not w[3] and w[0] > done_ok[-1][0] for w in mine)
        if page_live[page] != done_ok[-1][2] and not unknown_after:
            failures.append(
                f"page {page}: live={page_live[page]}, last publish action said {done_ok[-1][2]}"
            )

    # --- figures ---
    def first_success_after(t0: float, who=None) -> float | None:
        times = [
            r.ended
            for r in in_window
            if r.started >= t0 and 200 <= r.status < 400 and (who is None or r.session in who)
        ]
        return min(times) - t0 if times else None

    print("\n=== fault drill figures" + (" (files on Ceph S3)" if args.s3 else " (local files)"))
    print(
        f"window {window_end - window_start:.0f} s, {len(sessions)} partner sessions + 1 editor,"
        f" nodes A+B (2 workers x 4 threads each), 2 task workers"
    )
    print(
        f"requests answered: {sum(n for s, n in by_status.items() if s)} "
        f"({len(in_window) / (window_end - window_start):.1f}/s incl. refused); by status: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items()) if s)
    )
    print(
        f"designed 503s: {len(designed)} ("
        + ", ".join(
            f"{k}: {n}"
            for k, n in collections.Counter(f"{r.kind}/{r.method}" for r in designed).most_common()
        )
        + ")"
    )
    if designed:
        print(
            "designed 503s at (s into the window): "
            + ", ".join(
                f"{r.started - window_start:.1f} {r.method} {r.path[:60]} ({r.session}, {r.node})"
                for r in designed[:10]
            )
        )
    answered = sorted(r.ended - r.started for r in in_window if r.status)
    if answered:
        print(
            f"answer time: median {answered[len(answered) // 2]:.2f} s, "
            f"p95 {answered[int(len(answered) * 0.95)]:.2f} s (a fault's recovery reads against it)"
        )
    if objects:
        slow = [r for r in objects if r.ended - r.started > 5]
        print(
            f"files fetched from the object store (presigned redirects): {len(objects)}, by "
            f"status: {dict(collections.Counter(r.status for r in objects))}; waited > 5 s: "
            f"{len(slow)} (longest {max(r.ended - r.started for r in objects):.1f} s)"
        )
    print(f"raw 5xx: {len(raw)}")
    print(
        f"refused (went to the other node): {len(refused)}; connections lost mid-request: "
        f"{len(lost)} ({', '.join(sorted({r.error for r in lost})) or '-'})"
    )
    print(f"login pages after the first login: {len(logins)}")
    print("fault                                            | 503s | no answer | first success")
    for f in faults:
        # Requests in flight during the fault or started up to 5 s after it ended.
        span = [r for r in in_window if r.ended >= f["start"] and r.started <= f["end"] + 5]
        first = first_success_after(f["start"], f["affected"])
        if f["name"].startswith("S3 gateway") and objects:
            after = [r.ended for r in objects if r.ended >= f["start"] and r.status == 200]
            f["first_object_s"] = min(after) - f["start"] if after else None
        print(
            f"{f['name']:<48} | {sum(1 for r in span if r.status == 503):>4} | "
            f"{sum(1 for r in span if r.status == 0):>9} | "
            + (f"{first:.2f} s" if first is not None else "none")
            + " after it began"
        )
        if f.get("first_object_s") is not None:
            print(
                f"{'':<48} | first file from the gateway {f['first_object_s']:.2f} s after it began"
            )
        f["first_success_s"] = first
        f["designed_503"] = sum(1 for r in span if r.status == 503)
    print("job                     | claims seen | runs recorded | failed | max lateness")
    for name, n_claims, ran, failed, late in job_rows:
        print(f"{name:<23} | {n_claims:>11} | {ran:>13} | {failed:>6} | {late:.1f} s")
    print(
        f"digests: {sum(sent.values())} e-mails to {len(sent)} of {len(emails)} partners "
        f"({len(silent)} of a suspended organisation: nothing to tell, no e-mail) "
        f"(subjects: {len(digest_subjects)} distinct)"
    )
    print(
        f"engine vs database: {len(live)} live items, {len(in_engine)} in the engine, "
        f"{len(absent)} missing, {len(extra)} extra; recovery {recovery_seconds:.1f} s"
    )
    print(
        f"committed writes checked: {tz_checked} profiles, {len(writes.shares)} share links, "
        f"{len(editor_ok)} editor publish/unpublish; refused writes: "
        + (", ".join(f"{k}: {n}" for k, n in writes.failed.items()) or "none")
    )
    print(
        "expected tracebacks in the logs: "
        + (", ".join(f"{k}: {n}" for k, n in expected_tb.most_common()) or "none")
    )
    for block in unexpected_tb[:5]:
        print(f"--- unexpected traceback\n{block}")
    total = time.monotonic() - wall
    print(f"setup (migrate, seed, index) {setup_seconds:.0f} s; drill wall time {total:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "s3": args.s3,
                    "by_status": by_status,
                    "designed_503": len(designed),
                    "raw_5xx": len(raw),
                    "faults": [{k: v for k, v in f.items() if k != "affected"} for f in faults],
                    "jobs": job_rows,
                    "digests": sum(sent.values()),
                    "partners": len(emails),
                    "live": len(live),
                    "engine": len(in_engine),
                    "wall": total,
                    "requests": sum(n for s, n in by_status.items() if s),
                },
                default=str,
                indent=1,
            )
        )
    if failures:
        print("\n=== FAULT DRILL FAILED")
        for failure in failures:
            print(f"- {failure}")
        print(f"(logs kept in {logs})")
        PROCS.stop_all()
        return 1
    print("=== fault drill passed")
    PROCS.stop_all()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
