"""Search relevance over the demo (issue #14): the judged query set of
``search/tests/relevance/judged.json``, run as demo users on each backend; prints nDCG@10 per
query and per backend.

    .venv/bin/python bench/relevance.py                       # fresh demo in a temp dir
    .venv/bin/python bench/relevance.py --database-url sqlite:////tmp/demo/db.sqlite3
    .venv/bin/python bench/relevance.py --backends database   # skip osmem-server
    .venv/bin/python bench/relevance.py --markdown /tmp/relevance.md

Backends: ``database`` (the database of ``--database-url``, or a fresh SQLite demo built with
``migrate`` and ``seed_demo``) and ``elasticsearch`` (a fresh osmem-server, or the cluster of
``PORTAL_BENCH_ES_URL``). Every index is rebuilt from the database first. The test
``search/tests/test_relevance.py`` asserts the same figures (goal: nDCG@10 ≥ 0.9 per backend).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a seeded demo database (default: build one)")
    parser.add_argument(
        "--backends", nargs="+", default=["database", "elasticsearch"], help="which to run"
    )
    parser.add_argument("--markdown", help="append the tables to this file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="relevance-"))
    seed = not args.database_url
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir}/db.sqlite3"
    os.environ.setdefault("MEDIA_ROOT", str(workdir / "media"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal_site.settings.dev"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command

    if seed:
        print(f"seeding the demo in {workdir} …", file=sys.stderr)  # noqa: T201
        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    from search.backends import get_search_backend, reset_backend_cache
    from search.documents import iter_documents
    from search.tests import relevance

    queries, k, goal = relevance.load()
    urls = relevance.url_keys()
    documents = list(iter_documents())
    out: list[str] = []
    means: dict[str, float] = {}
    server = None
    try:
        for name in args.backends:
            if name == "database":
                settings.PORTAL_SEARCH_BACKENDS = {
                    "default": {"BACKEND": "search.backends.database"}
                }
            else:
                url = os.environ.get("PORTAL_BENCH_ES_URL")
                if not url:
                    import osmem_server

                    server = osmem_server.OsmemServer.start()
                    url = server.url
                    settings.PORTAL_SEARCH_FLAVOR = "opensearch"
                settings.PORTAL_SEARCH_BACKENDS = {
                    "default": {
                        "BACKEND": "search.backends.elasticsearch",
                        "URLS": [url],
                        "INDEX_PREFIX": "bench-relevance",
                        "TIMEOUT": 10,
                    }
                }
            reset_backend_cache()
            backend = get_search_backend()
            backend.rebuild(documents)
            backend.refresh()
            outcomes = [relevance.run(judged, k, urls) for judged in queries]
            means[name] = relevance.mean(outcomes)
            out.append(relevance.table(outcomes, f"{name}: nDCG@{k}"))
            out.append("")
    finally:
        if server is not None:
            server.close()
    summary = ", ".join(f"{name} {value:.3f}" for name, value in means.items())
    out.append(f"{len(queries)} judged queries; mean nDCG@{k}: {summary} (goal ≥ {goal}).")
    text = "\n".join(out)
    print(text)  # noqa: T201
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0 if all(value >= goal for value in means.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
