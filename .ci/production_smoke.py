"""Smoke-drive a running production server over real HTTP (the production leg, .ci/production.sh).

Usage::

    python .ci/production_smoke.py --base-url http://127.0.0.1:8010

The server runs the production settings behind no proxy, so every request says
``X-Forwarded-Proto: https`` (the settings trust that header, as behind nginx) and cookies are
kept by hand: the session and CSRF cookies are ``Secure`` and a standard cookie jar would not send
them over plain HTTP on the loopback. Only the standard library is used (http.client).

A partner logs in at /login/ and a staff user at /admin/login/; the journey opens the home, the
library, an item, downloads its file, renders its cover image, searches, opens the admin dashboard
and page explorer, and checks that hidden items and their files answer 404. Any 5xx, any other
unexpected status or a wrong body fails the run (exit status 1) with a line per failed check.
The login throttling of issue #9 is respected: every login here succeeds at the first attempt.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import time
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

PARTNER = ("anna@acme.example", "demo-anna-2026")
STAFF = ("eva@vendor.example", "demo-eva-2026")


class SmokeFailure(Exception):
    """A check failed; the message says which and why."""


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def links(self, pattern: str) -> list[str]:
        """Distinct href/src paths in the page matching ``pattern``, in page order."""
        found = re.findall(r'(?:href|src)="(/[^"#]*)"', self.text)
        return list(dict.fromkeys(h.replace("&amp;", "&") for h in found if re.search(pattern, h)))


@dataclass
class Client:
    """One browser: its own cookies, sent by hand (they are Secure; the loopback is plain HTTP)."""

    base_url: str
    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        data: dict | None = None,
        https: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Response:
        parts = urlsplit(self.base_url)
        host = found(parts.hostname, f"no host name in {self.base_url}")
        conn = http.client.HTTPConnection(host, parts.port, timeout=60)
        extra = headers or {}
        headers = {"Host": parts.netloc, "User-Agent": "portal-production-smoke", **extra}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # What a browser sends with a form post; Django's CSRF check compares it over HTTPS.
            headers["Origin"] = f"https://{parts.netloc}"
            headers["Referer"] = f"https://{parts.netloc}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read(), path)
        finally:
            conn.close()
        self.requests += 1
        for value in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(value).values():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(morsel.key, None)
                else:
                    self.cookies[morsel.key] = morsel.value
        if response.status >= 500:
            raise SmokeFailure(
                f"{self.name}: {method} {path} answered {response.status}:\n{response.text[:2000]}"
            )
        if response.status not in expect:
            raise SmokeFailure(
                f"{self.name}: {method} {path} answered {response.status}, expected {expect}"
                f" (Location: {response.headers.get('Location')})"
            )
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def login(self, path: str, email: str, password: str, *, then: str) -> None:
        form = self.get(path)
        token = found(
            re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text),
            f"{path}: no CSRF token in the login form",
        )
        done = self.request(
            "POST",
            path,
            data={"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
            expect=(302,),
        )
        check(
            done.headers.get("Location") == then,
            f"{self.name}: login at {path} redirected to {done.headers.get('Location')!r}, "
            f"expected {then!r}",
        )
        check("sessionid" in self.cookies, f"{self.name}: no session cookie after the login")


T = TypeVar("T")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def found(value: T | None, message: str) -> T:
    """``value``, which must be there (a match, a link): a failure of the smoke otherwise."""
    if value is None:
        raise SmokeFailure(message)
    return value


def wait_until_up(base_url: str, seconds: float) -> None:
    """Wait for the server to accept connections and answer /login/ (gunicorn boots workers)."""
    deadline = time.monotonic() + seconds
    probe = Client(base_url, "probe")
    while True:
        try:
            probe.get("/login/")
            return
        except (OSError, http.client.HTTPException) as exc:
            if time.monotonic() > deadline:
                raise SmokeFailure(f"no answer within {seconds:.0f} s: {exc}") from exc
            time.sleep(0.5)


ITEM_LINK = r"^(?:/[a-z]{2}(?:-[a-z]+)?)?/library/.+/$"


def run(base_url: str, *, search_seconds: float) -> list[str]:
    """The journey; returns what was checked, one line each. Raises SmokeFailure."""
    done: list[str] = []
    anonymous = Client(base_url, "anonymous")

    plain = anonymous.get("/login/", https=False, expect=(301,))
    check(
        plain.headers.get("Location", "").startswith("https://"),
        f"plain HTTP is not redirected to HTTPS: {plain.headers.get('Location')!r}",
    )
    login_page = anonymous.get("/login/")
    check(
        "max-age=" in login_page.headers.get("Strict-Transport-Security", ""),
        "no Strict-Transport-Security header on an HTTPS response",
    )
    home = anonymous.get("/", headers={"Accept-Language": "de"})
    landing = home.text
    check('data-page="landing"' in landing, "the anonymous home is not the public landing")
    check('lang="de"' in landing, "the landing does not speak the browser's language (German)")
    check(
        "/login/" in landing and "/password-reset/" in landing,
        "the landing links neither to the login nor to the password reset",
    )
    done.append("anonymous: HTTP -> HTTPS redirect, HSTS, the public landing in German")

    # --- partner ----------------------------------------------------------------------------
    anna = Client(base_url, "partner")
    anna.login("/login/", *PARTNER, then="/")
    localized = anna.get("/", expect=(302,)).headers["Location"]  # Anna reads German
    home = anna.get(localized)
    check("/library/" in home.text, "the partner home links to no library")
    library = anna.get("/library/")
    items = library.links(r"^/library/[^?]+/$")
    check(len(items) >= 3, f"the library lists {len(items)} links")
    sheets = anna.get("/library/product-sheets/")
    datasheet = found(
        next((u for u in sheets.links(r"x1-edge-router-datasheet/$")), None),
        "the X1 datasheet is not listed for the partner",
    )
    item = anna.get(datasheet)
    files = item.links(r"^/portal/items/\d+/files/\d+/.+\.pdf$")
    check(bool(files), "the X1 datasheet page offers no PDF download")
    download = anna.get(files[0])
    check(
        download.headers.get_content_type() == "application/pdf",
        f"download Content-Type {download.headers.get('Content-Type')!r}",
    )
    check(download.body.startswith(b"%PDF-"), "the downloaded file is not a PDF")
    check(
        int(download.headers.get("Content-Length", "-1")) == len(download.body) > 1000,
        f"download length {len(download.body)} vs Content-Length "
        f"{download.headers.get('Content-Length')}",
    )
    check("attachment" in download.headers.get("Content-Disposition", ""), "no attachment header")
    cover = item.links(r"^/portal/items/\d+/image/cover/")
    check(bool(cover), "the item page shows no cover image")
    image = anna.get(cover[0])
    check(image.headers.get_content_type().startswith("image/"), "the cover is not an image")
    done.append(
        f"partner: login, home ({localized}), library ({len(items)} links), item, "
        f"PDF download ({len(download.body)} bytes), cover image"
    )

    # Search is indexed by the task worker: wait for it to catch up with the seeded content.
    deadline = time.monotonic() + search_seconds
    while True:
        # Item links in any content language (/library/…, /de/library/…): the library lists
        # Anna's German datasheet first, and search finds it.
        hits = anna.get("/search/?q=router").links(ITEM_LINK)
        exact = anna.get("/search/?q=x1+edge+router+datasheet").links(ITEM_LINK)
        # Either language's X1 datasheet (the German one's text says "Datenblatt").
        if hits and any(u.endswith("/x1-edge-router-datasheet/") for u in exact):
            break
        check(
            time.monotonic() < deadline,
            f"search does not find the X1 datasheet after {search_seconds:.0f} s "
            "(is the task worker running?)",
        )
        time.sleep(2)
    done.append(f"partner: search finds the X1 datasheet ({len(hits)} hits for 'router' on page 1)")

    # Co-branding: the render is made by the task worker (database backend) while the partner
    # sees "preparing"; the download is stamped with its own identifier.
    brochure = found(
        next(iter(anna.get("/search/?q=x1+brochure").links(r"x1-edge-router-brochure/$")), None),
        "search does not find the X1 brochure for the partner",
    )
    action = found(
        re.search(r'action="(/portal/items/\d+/cobrand/)"', anna.get(brochure).text),
        "the X1 brochure offers the partner no Co-brand button",
    )
    posted = anna.request(
        "POST",
        action.group(1),
        data={"csrfmiddlewaretoken": anna.cookies["csrftoken"]},
        expect=(303,),
    )
    status_path = urlsplit(posted.headers["Location"]).path
    deadline = time.monotonic() + 90
    while True:
        status = anna.get(status_path)
        check(
            'data-state="failed"' not in status.text, f"the co-brand render failed: {status_path}"
        )
        if 'data-state="ready"' in status.text:
            break
        check(time.monotonic() < deadline, "the co-brand render is not ready after 90 s (worker?)")
        time.sleep(1)
    copy_path = found(
        next(iter(status.links(r"^/portal/items/\d+/cobrand/\d+/.+\.pdf$")), None),
        "the ready status page offers no download",
    )
    copy = anna.get(copy_path)
    check(copy.body.startswith(b"%PDF-"), "the co-branded copy is not a PDF")
    check(b"/PortalCobrandId" in copy.body, "the co-branded copy carries no identifier")
    done.append(f"partner: co-branded the X1 brochure via the worker ({len(copy.body)} bytes)")

    # --- staff ------------------------------------------------------------------------------
    eva = Client(base_url, "staff")
    eva.login("/admin/login/", *STAFF, then="/admin/")
    dashboard = eva.get("/admin/")
    explorer = eva.get("/admin/pages/")
    pages = explorer.links(r"^/admin/pages/\d+/$")
    check(bool(pages), "the page explorer lists no pages")
    eva.get(pages[0])
    eva.get("/admin/pages/search/?q=router")
    lounge = eva.get("/library/platinum-lounge/")
    roadmap = found(
        next(iter(lounge.links(r"product-roadmap-2027[^/]*/$")), None),
        "staff do not see the roadmap in the Platinum lounge",
    )
    roadmap_page = eva.get(roadmap)
    roadmap_files = roadmap_page.links(r"^/portal/items/\d+/files/")
    check(bool(roadmap_files), "the roadmap offers staff no file")
    done.append(
        f"staff: admin login, dashboard ({len(dashboard.body)} bytes), page explorer, "
        "admin search, Platinum lounge, roadmap"
    )

    # --- what must stay hidden ------------------------------------------------------------
    for who in (anonymous, anna):
        who.get(roadmap, expect=(404,))
        who.get(roadmap_files[0], expect=(404,))
    done.append("hidden: the roadmap and its file answer 404 to anonymous and to the Gold partner")

    anna.request(
        "POST", "/logout/", data={"csrfmiddlewaretoken": anna.cookies["csrftoken"]}, expect=(302,)
    )
    # Logged out, her home is the public landing and her profile asks her to log in again.
    check(
        'data-page="landing"' in anna.get(localized).text,
        "after logout the home is not the public landing",
    )
    anna.get("/portal/account/profile/", expect=(302,))
    done.append("partner: logout ends the session")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8010")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the server")
    parser.add_argument(
        "--search-seconds", type=float, default=120, help="seconds to wait for the index"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        wait_until_up(args.base_url, args.wait)
        done = run(args.base_url, search_seconds=args.search_seconds)
    except SmokeFailure as failure:
        sys.stderr.write(f"SMOKE FAILED: {failure}\n")
        return 1
    for line in done:
        sys.stdout.write(f"ok  {line}\n")
    sys.stdout.write(f"smoke passed in {time.monotonic() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
