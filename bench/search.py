"""Search benchmark: every comparison side by side in one run (the machine is noisy).

    .venv/bin/python bench/search.py                      # all legs (see --help)
    .venv/bin/python bench/search.py --legs sqlite:10000 postgres:10000
    PORTAL_BENCH_ES_URL=https://es.example:9200 .venv/bin/python bench/search.py --legs engine:10000

Legs (each in its own process, on its own fresh database):

* ``sqlite:N`` / ``postgres:N`` - N generated items with multi-paragraph text. For a partner user,
  p50/p95 of our search service call (``search.selectors.portal_search``: query, entitlement
  filter, facets, hydrated top 20) and, with ``--wagtail`` (on by default at 10k), Wagtail's own
  ``database`` backend doing ``PortalItemPage.objects.live().search(q)[:20]`` on the same data.
* ``engine:N`` - against osmem-server (or the cluster in PORTAL_BENCH_ES_URL): our backend's search
  against the bare engine query with the same body, and bulk indexing throughput of our backend
  against raw ``helpers.bulk`` of the same documents.

PostgreSQL legs use the databases ``<prefix>_<N>`` (prefix ``search_bench``, or
``PORTAL_BENCH_DB_PREFIX``: two checkouts can then keep their data side by side).

Prints a table and, with ``--markdown FILE``, appends the figures as Markdown.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "router switch firewall gateway uplink install installation configure configuration guide "
    "partner channel pricing discount campaign brochure training module lesson certificate "
    "network security cloud storage backup recovery license subscription renewal upgrade "
    "firmware release notes support warranty service contract margin quote deal registration "
    "onboarding workshop webinar presentation banner social post template logo brand colour "
    "throughput latency port fibre copper wireless antenna mesh controller dashboard report "
    "analytics monitoring alert policy compliance audit encryption certificate authentication "
    "identity access token directory integration api sdk plugin connector migration deployment "
    "rollout pilot customer enterprise small business retail healthcare education government "
    "manufacturing logistics hospitality finance insurance energy telecom provider reseller "
    "distributor referral technology alliance program tier gold silver platinum registered region "
    "europe america asia pacific latin datasheet specification dimension weight power supply "
    "redundant cooling rack mount chassis blade module slot expansion card memory processor "
    "performance benchmark comparison competitor advantage feature benefit roadmap launch "
    "announcement press kit case study testimonial reference architecture design best practice "
    "troubleshooting diagnostic error message reset factory default password recovery console "
    "command line interface web portal mobile app notification email newsletter event trade "
    "show booth demo trial evaluation sandbox lab exam quiz score progress completion badge"
).split()
QUERIES = [
    "firewall configuration",
    "instalation gide",
    "partner pricing",
    "wireless antenna",
    '"release notes"',
    "backup recovery",
    "campaign brochure",
    "certificate exam",
    "rack mount chassis",
    "compliance audit",
    "mesh controler",
    "onboarding webinar",
]


def _vocabulary(size: int = 6000, seed: int = 3) -> list[str]:
    """A Zipf-ranked vocabulary: common filler words first, the domain words spread over ranks
    40-2000, pseudo-words (realistic length, no meaning) filling the long tail."""
    rng = random.Random(seed)
    filler = (
        "the and for with this that from your our are can will not all more when you each "
        "into than also new use has have been its may other which their these only"
    ).split()
    syllables = "ka lo mi ne tor va ri sen dal mo pra ex ter lin qua zo bel cor fin gra".split()
    tail: set[str] = set()
    while len(tail) < size:
        tail.add("".join(rng.choices(syllables, k=rng.randint(2, 4))))
    ranked = filler + sorted(tail)[: size - len(filler)]
    for i, word in enumerate(WORDS):
        ranked.insert(40 + i * 8, word)
    return ranked


VOCABULARY = _vocabulary()
CUM_WEIGHTS = list(itertools.accumulate(1 / (i + 1) for i in range(len(VOCABULARY))))


def _paragraphs(rng: random.Random, n: int) -> str:
    paragraphs = []
    for _ in range(n):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(VOCABULARY, cum_weights=CUM_WEIGHTS, k=rng.randint(8, 18))
            sentences.append(" ".join(words).capitalize() + ".")
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    return "".join(paragraphs)


# --- one leg, in its own process -------------------------------------------------------------


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal_site.settings.test")
    import django

    django.setup()


def _generate(n: int, seed: int = 7) -> dict:
    """N live product sheets under the English library, written in bulk (no signals)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone
    from wagtail.models import Page

    from accounts.tests.factories import UserFactory
    from kb.models import ProductSheetPage
    from kb.services import library_for_locale, product_ensure, site_structure_ensure
    from permissions.models import PageAudience
    from permissions.services import membership_set, organization_upsert
    from permissions.tests.factories import PartnerTypeFactory, RegionFactory, TierFactory

    rng = random.Random(seed)
    site_structure_ensure(hostname="testserver", port=80)
    library = library_for_locale("en")
    tiers = [
        TierFactory.create(key=k, rank=r)
        for k, r in (("registered", 1), ("silver", 2), ("gold", 3))
    ]
    regions = [RegionFactory.create(key=k) for k in ("emea", "apac", "na")]
    types = [PartnerTypeFactory.create(key=k) for k in ("reseller", "distributor")]
    products = [product_ensure(name=f"Product {i}") for i in range(12)]
    org = organization_upsert(
        key="bench",
        name="Bench",
        tier=tiers[1],
        region=regions[0],
        partner_type=types[0],
        country="DE",
    )
    user = UserFactory.create(email="bench@example.test")
    membership_set(user=user, organization=org, role="member")
    ct = ContentType.objects.get_for_model(ProductSheetPage)
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for start in range(0, n, 2000):
            batch = []
            for i in range(start, min(n, start + 2000)):
                title = " ".join(rng.choices(WORDS, k=rng.randint(3, 6))).capitalize()  # on topic
                # treebeard paths: base-36, 4 characters per level
                step, num = "", i + 1
                digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                for _ in range(4):
                    step = digits[num % 36] + step
                    num //= 36
                when = now - timedelta(minutes=n - i)
                batch.append(
                    Page(
                        title=title,
                        draft_title=title,
                        slug=f"item-{i}",
                        path=library.path + step,
                        depth=library.depth + 1,
                        numchild=0,
                        live=True,
                        has_unpublished_changes=False,
                        content_type=ct,
                        locale_id=library.locale_id,
                        url_path=f"{library.url_path}item-{i}/",
                        first_published_at=when,
                        last_published_at=when,
                        seo_title="",
                        search_description="",
                    )
                )
            Page.objects.bulk_create(batch)
            rows_item, rows_sheet, audiences = [], [], []
            for page in batch:
                tier = rng.choice([None, None, tiers[0], tiers[1], tiers[2]])
                region = rng.choice([None, None, regions[0], regions[1], regions[2]])
                rows_item.append(
                    (
                        page.pk,
                        False,
                        tier.pk if tier else None,
                        _paragraphs(rng, 1)[3:-4][:300],
                        _paragraphs(rng, rng.randint(3, 6)),
                        rng.choice(products).pk,
                        "",
                    )
                )
                rows_sheet.append((page.pk, "v1", "[]", ""))
                regions_tok = f"|{region.pk}|" if region else None
                audiences.append(
                    PageAudience(
                        page_id=page.pk,
                        own_public=False,
                        own_min_tier=tier,
                        own_min_rank=tier.rank if tier else None,
                        own_regions=regions_tok,
                        eff_public=False,
                        eff_min_rank=tier.rank if tier else None,
                        eff_regions=regions_tok,
                    )
                )
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO kb_portalitempage (page_ptr_id, audience_public, "
                    "audience_min_tier_id, summary, body, product_id, cover_image_source_sha256) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    rows_item,
                )
                cursor.executemany(
                    "INSERT INTO kb_productsheetpage (portalitempage_ptr_id, version_label, "
                    "specifications, changelog) VALUES (%s,%s,%s,%s)",
                    rows_sheet,
                )
            PageAudience.objects.bulk_create(audiences)
            created += len(batch)
        Page.objects.filter(pk=library.pk).update(numchild=n)
    return {"user_id": user.pk, "created": created}


def _percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return {"p50_ms": statistics.median(samples) * 1000, "p95_ms": p95 * 1000, "n": len(samples)}


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        for q in QUERIES:
            started = time.perf_counter()
            fn(q)
            out.append(time.perf_counter() - started)
    return out


def leg_database(
    vendor: str, n: int, wagtail: bool, repeats: int, reused: bool = False, marker=None
) -> dict:
    from django.core.management import call_command
    from django.http import QueryDict

    from accounts.models import User
    from search.backends import get_search_backend
    from search.documents import iter_documents
    from search.models import SearchEntry
    from search.selectors import portal_search

    call_command("migrate", verbosity=0, interactive=False)
    generate_s = index_s = 0.0
    if reused:  # --reuse: the data from an earlier run of the same leg
        info = {"user_id": User.objects.get(email="bench@example.test").pk}
    else:
        started = time.perf_counter()
        info = _generate(n)
        if vendor == "postgres":
            # Statistics as autovacuum would have them on a live database (the generator
            # bulk-inserts; stale estimates make the planner nest-loop the entitlement joins).
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        generate_s = time.perf_counter() - started
        if marker:
            marker.touch()
    if SearchEntry.objects.count() < n:  # a fresh leg, or an earlier run stopped while indexing
        started = time.perf_counter()
        get_search_backend().rebuild(iter_documents(with_files=False, batch_size=500))
        index_s = time.perf_counter() - started
    user = User.objects.get(pk=info["user_id"])

    def ours(q):
        user.__dict__.pop("_portal_principal", None)  # a fresh request each time
        params = QueryDict(mutable=True)
        params["q"] = q
        return portal_search(user=user, params=params)

    for q in QUERIES:  # warm caches (vocabulary, page cache) for both sides
        ours(q)
    result: dict[str, Any] = {
        "leg": f"{vendor}:{n}",
        "generate_s": generate_s,
        "index_s": index_s,
        "hits": {q: ours(q).total for q in QUERIES},
        "exact": {q: ours(q).total_exact for q in QUERIES},
    }
    if not wagtail:
        result["ours"] = _percentiles(_time(ours, repeats))
        return result

    from wagtail.search.models import IndexEntry

    from kb.models import PortalItemPage

    started = time.perf_counter()
    if not (reused and IndexEntry.objects.exists()):
        call_command("update_index", verbosity=0)
    result["wagtail_index_s"] = time.perf_counter() - started

    def theirs(q):
        return list(PortalItemPage.objects.live().search(q.strip('"'))[:20])

    for q in QUERIES[:2]:
        theirs(q)
    # Interleaved, query by query, so both sides see the same machine load.
    ours_samples, their_samples = [], []
    for _ in range(repeats):
        for q in QUERIES:
            ours_samples += _time_one(ours, q)
            their_samples += _time_one(theirs, q)
    result["ours"] = _percentiles(ours_samples)
    result["wagtail"] = _percentiles(their_samples)
    result["ratio_p50"] = result["wagtail"]["p50_ms"] / result["ours"]["p50_ms"]
    result["ratio_p95"] = result["wagtail"]["p95_ms"] / result["ours"]["p95_ms"]
    return result


def _time_one(fn, q) -> list[float]:
    started = time.perf_counter()
    fn(q)
    return [time.perf_counter() - started]


def leg_engine(n: int, url: str | None, repeats: int) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    info = _generate(n)
    server = None
    if not url:
        from osmem_server import OsmemServer

        server = OsmemServer.start()
        url = server.url
    try:
        from elasticsearch import helpers

        from accounts.models import User
        from permissions.policies.search import search_filter_for
        from search.backends.base import SearchQuery
        from search.backends.elasticsearch import SearchBackend, to_source
        from search.documents import iter_documents

        docs = list(iter_documents(with_files=False, batch_size=500))
        ours = SearchBackend({"URLS": [url], "INDEX_PREFIX": "benchours", "TIMEOUT": 120})
        ours.ensure_indexes()
        started = time.perf_counter()
        for start in range(0, len(docs), 500):
            ours.bulk(docs[start : start + 500])
        ours.refresh()
        ours_bulk_s = time.perf_counter() - started

        raw = SearchBackend({"URLS": [url], "INDEX_PREFIX": "benchraw", "TIMEOUT": 120})
        raw.ensure_indexes()
        actions = [{"_index": raw.alias(d.locale), "_id": d.id, **to_source(d)} for d in docs]
        started = time.perf_counter()
        helpers.bulk(raw.client.options(request_timeout=300), actions, chunk_size=500)
        raw.refresh()
        raw_bulk_s = time.perf_counter() - started

        user = User.objects.get(pk=info["user_id"])
        flt = search_filter_for(user)

        def service(q):
            return ours.search(SearchQuery(q, flt))

        def bare(q):
            body = ours.build_search(SearchQuery(q, flt)).to_dict()
            return ours.client.options(request_timeout=30).search(
                index=ours._search_indexes(), body=body, ignore_unavailable=True
            )

        for q in QUERIES:
            service(q), bare(q)
        # interleave so both sides see the same noise
        s_samples, b_samples = [], []
        for _ in range(repeats):
            s_samples += _time(service, 1)
            b_samples += _time(bare, 1)
        s, b = _percentiles(s_samples), _percentiles(b_samples)
        return {
            "leg": f"engine:{n}",
            "ours": s,
            "bare": b,
            "ratio_p50": s["p50_ms"] / b["p50_ms"],
            "ours_docs_per_s": len(docs) / ours_bulk_s,
            "raw_docs_per_s": len(docs) / raw_bulk_s,
            "bulk_ratio": (len(docs) / ours_bulk_s) / (len(docs) / raw_bulk_s),
        }
    finally:
        if server is not None:
            server.close()


def run_leg(spec: str, args) -> dict:
    kind, size = spec.split(":")
    n = int(size)
    wagtail = args.wagtail or n <= 10_000
    if kind == "sqlite":
        path = Path(args.workdir) / f"bench-search-{n}.sqlite3"
        done = path.with_suffix(".generated")
        reused = args.reuse and done.exists() and path.exists()
        if not reused:
            done.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
        _setup_django(f"sqlite:///{path}")
        return leg_database("sqlite", n, wagtail, args.repeats, reused, done)
    if kind == "postgres":
        import psycopg

        name = f"{os.environ.get('PORTAL_BENCH_DB_PREFIX', 'search_bench')}_{n}"
        done = Path(args.workdir) / f"{name}.generated"
        reused = args.reuse and done.exists()
        if not reused:
            done.unlink(missing_ok=True)
            with psycopg.connect(args.postgres + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        _setup_django(f"{args.postgres}/{name}")
        return leg_database("postgres", n, wagtail, args.repeats, reused, done)
    if kind == "engine":
        path = Path(args.workdir) / f"bench-engine-{n}.sqlite3"
        path.unlink(missing_ok=True)
        _setup_django(f"sqlite:///{path}")
        return leg_engine(n, os.environ.get("PORTAL_BENCH_ES_URL"), args.repeats)
    raise SystemExit(f"unknown leg {spec}")


def _markdown(results: list[dict]) -> str:
    lines = [
        "| leg | ours p50 / p95 (ms) | baseline p50 / p95 (ms) | baseline ÷ ours (p50) | notes |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        ours = f"{r['ours']['p50_ms']:.1f} / {r['ours']['p95_ms']:.1f}"
        if "wagtail" in r:
            base = f"{r['wagtail']['p50_ms']:.1f} / {r['wagtail']['p95_ms']:.1f}"
            ratio = f"{r['ratio_p50']:.1f}× (p50), {r['ratio_p95']:.1f}× (p95)"
            note = f"Wagtail `database`; index {r['index_s']:.0f} s"
        elif "bare" in r:
            base = f"{r['bare']['p50_ms']:.1f} / {r['bare']['p95_ms']:.1f}"
            ratio = f"ours = {r['ratio_p50']:.2f}× bare"
            note = (
                f"bare engine query; bulk {r['ours_docs_per_s']:.0f} vs raw "
                f"{r['raw_docs_per_s']:.0f} docs/s ({r['bulk_ratio']:.2f}×)"
            )
        else:
            base, ratio, note = "-", "-", f"index {r['index_s']:.0f} s"
        lines.append(f"| {r['leg']} | {ours} | {base} | {ratio} | {note} |")
    by_leg = {r["leg"]: r for r in results}
    for vendor in ("sqlite", "postgres"):
        small, large = by_leg.get(f"{vendor}:10000"), by_leg.get(f"{vendor}:100000")
        if small and large:
            growth = large["ours"]["p95_ms"] / small["ours"]["p95_ms"]
            lines.append(f"\n{vendor}: p95 at 100k ÷ p95 at 10k = {growth:.2f} (goal ≤ 2)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--legs",
        nargs="+",
        default=[
            "sqlite:10000",
            "sqlite:100000",
            "postgres:10000",
            "postgres:100000",
            "engine:10000",
        ],
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wagtail", action="store_true", help="Wagtail baseline at every size.")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--workdir", default=tempfile.gettempdir())
    parser.add_argument("--markdown", help="Append a Markdown table to this file.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Keep a database leg's data and index from an earlier complete run (skips the slow "
        "generation and indexing; measures the current search code on them).",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Run the legs this many times, alternating (10k, 100k, 10k, 100k…), and report the "
        "median of each figure. Here a whole process is sometimes ~40%% slower than the next "
        "one (the machine, not the code), which a growth ratio between two processes "
        "otherwise takes at face value.",
    )
    parser.add_argument("--leg", help=argparse.SUPPRESS)  # internal: run one leg, print JSON
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.leg:
        print(json.dumps(run_leg(args.leg, args)))
        return
    rounds: list[list[dict]] = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"round {number} of {args.rounds}")
        rounds.append(_run_legs(args, reuse=args.reuse or number > 1))
        if args.rounds > 1:
            print(_markdown(rounds[-1]))
    results = rounds[0] if len(rounds) == 1 else _median_results(rounds)
    table = _markdown(results)
    if len(rounds) > 1:
        table = f"Median of {len(rounds)} rounds:\n\n{table}\n\n{_round_lines(rounds)}"
    print(table)
    if args.markdown:
        with open(args.markdown, "a") as handle:
            handle.write("\n" + table + "\n")


def _median_results(rounds: list[list[dict]]) -> list[dict]:
    """Per leg, the median over rounds of each timing (and of the ratios, taken per round)."""
    by_leg: dict[str, list[dict]] = {}
    for results in rounds:
        for r in results:
            by_leg.setdefault(r["leg"], []).append(r)
    merged = []
    for runs in by_leg.values():
        out = dict(runs[-1])
        for side in ("ours", "wagtail", "bare"):
            if side in out:
                out[side] = {
                    key: statistics.median(run[side][key] for run in runs)
                    for key in ("p50_ms", "p95_ms")
                }
        for key in ("ratio_p50", "ratio_p95", "bulk_ratio", "ours_docs_per_s", "raw_docs_per_s"):
            if key in out:
                out[key] = statistics.median(run[key] for run in runs)
        merged.append(out)
    return merged


def _round_lines(rounds: list[list[dict]]) -> str:
    """Each round's p95 growth from 10k to 100k, so the spread is visible next to the median."""
    lines = []
    for vendor in ("sqlite", "postgres"):
        growths = []
        for results in rounds:
            by_leg = {r["leg"]: r for r in results}
            small, large = by_leg.get(f"{vendor}:10000"), by_leg.get(f"{vendor}:100000")
            if small and large:
                growths.append(large["ours"]["p95_ms"] / small["ours"]["p95_ms"])
        if growths:
            lines.append(f"{vendor}: growth per round " + ", ".join(f"{g:.2f}" for g in growths))
    return "\n".join(lines)


def _run_legs(args, *, reuse: bool) -> list[dict]:
    results = []
    for spec in args.legs:
        command = [
            sys.executable,
            __file__,
            "--leg",
            spec,
            "--repeats",
            str(args.repeats),
            "--postgres",
            args.postgres,
            "--workdir",
            args.workdir,
        ]
        if args.wagtail:
            command.append("--wagtail")
        if reuse:  # later rounds measure the data the first one generated
            command.append("--reuse")
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if out.returncode != 0:
            print(f"{spec}: failed\n{out.stderr[-3000:]}")
            continue
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - started
        results.append(result)
        print(json.dumps(result))
    return results


if __name__ == "__main__":
    main()
