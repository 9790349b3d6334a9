"""Storage benchmark: the portal's S3 path against plain boto3, same server, same run.

    .ci/ceph.sh run .venv/bin/python bench/storage.py      (or: make bench-storage)

Needs the S3_* variables (ceph.sh sets them). For 1 MB and 200 MB files it measures:

- upload, portal: what an admin upload does: files.validation.validate_upload on the uploaded file,
  then default_storage.save (files.storage.RoutingStorage -> django-storages S3 -> boto3 multipart);
- upload, portal store only: the same without validation (to show what the check costs);
- upload, boto3: client.upload_fileobj and client.upload_file with boto3's default
  TransferConfig;
- download, portal: files.storage.presigned_url (what the view does after the permission check:
  signing, plus one HEAD when the bucket has not answered for PORTAL_S3["health_seconds"]) and
  a streamed GET of that URL in 1 MiB blocks, as a browser would; download-portal-head: the
  same with health_seconds = 0 (a HEAD before every redirect, the earlier behaviour);
- download, boto3: get_object streamed in 1 MiB blocks, and download_fileobj (ranged, threaded).

Each operation runs (REPEATS times) in a fresh subprocess so its peak RSS growth (ru_maxrss
after - before) belongs to that operation alone. Medians of the REPEATS runs. Then, for 1 MB,
a *paired* run: every operation once per round in a shuffled order, PAIRED_ROUNDS rounds in one
process, so load from other processes on a shared machine hits portal and boto3 alike; its
ratio is the median over rounds of boto3 seconds / portal seconds.
Goals: portal >= 0.8x boto3
throughput; peak RSS growth < 20 MB for 200 MB (files are streamed, never read whole).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"1MB": 1024 * 1024, "200MB": 200 * 1024 * 1024}
if os.environ.get("BENCH_QUICK"):
    SIZES = {"1MB": 1024 * 1024}
REPEATS = {"1MB": 20, "200MB": 5}
PAIRED_ROUNDS = 40  # 1 MB only
BLOCK = 1024 * 1024


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_file(size: int, folder: Path) -> Path:
    """A ZIP of incompressible data (stored): a real document type the validator fully reads."""
    path = folder / f"bench-{size}.zip"
    if path.exists():
        return path
    payload = size - 200
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("data.bin", "w", force_zip64=True) as member:
            left = payload
            while left > 0:
                chunk = os.urandom(min(BLOCK, left))
                member.write(chunk)
                left -= len(chunk)
    return path


def boto3_client():
    import boto3

    from files.storage import client_config

    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        region_name=os.environ.get("S3_REGION") or "us-east-1",
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
        config=client_config(),
    )


def _setup():
    """Django, the boto3 client, the browser's HTTP pool; connections warmed up."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal_site.settings.test")
    sys.path.insert(0, str(ROOT))
    django.setup()
    import urllib3
    from django.conf import settings
    from django.core.files.storage import default_storage

    import files.storage
    import files.validation  # noqa: F401 - imported before the RSS baseline, like the rest

    client = boto3_client()
    bucket = settings.PORTAL_S3["bucket"]
    http = urllib3.PoolManager()
    # Warm up connections and imports so the baseline includes them.
    client.head_bucket(Bucket=bucket)
    default_storage.exists("warm-up")
    http.request("GET", os.environ["S3_ENDPOINT_URL"]).release_conn()  # the browser's connection
    return client, bucket, http


def _step(operation: str, path: str, key: str, tag: str, env, *, keep: bool = False):
    """One timed operation (cleanup not timed). Returns (seconds, key of a kept upload)."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    from files.storage import presigned_url, s3_settings
    from files.validation import validate_upload

    client, bucket, http = env
    prefix = f"bench/{key}-{tag}"
    stored = None
    if operation == "download-portal-head":
        s3_settings()["health_seconds"] = 0  # a HEAD before every redirect
    elif operation == "download-portal":
        s3_settings()["health_seconds"] = 30  # the default
    start = time.perf_counter()
    if operation == "upload-portal":
        with open(path, "rb") as handle:
            name = validate_upload(name=Path(path).name, content=handle, kind="document")
            saved = default_storage.save(f"{prefix}/{name}", File(handle, name=name))
    elif operation == "upload-portal-store":
        with open(path, "rb") as handle:
            saved = default_storage.save(f"{prefix}/{Path(path).name}", File(handle))
    elif operation == "upload-boto3":
        stored = f"{prefix}/{Path(path).name}"
        with open(path, "rb") as handle:
            client.upload_fileobj(handle, bucket, stored)
    elif operation == "upload-boto3-file":
        saved = f"{prefix}-file/{Path(path).name}"
        client.upload_file(path, bucket, saved)
    elif operation in ("download-portal", "download-portal-head"):
        url = presigned_url(key, filename="data.zip", as_attachment=True)
        response = http.request("GET", url, preload_content=False)
        if response.status != 200:
            raise SystemExit(f"presigned GET answered {response.status}")
        for _ in response.stream(BLOCK):
            pass
        response.release_conn()
    elif operation == "download-boto3-stream":
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        for _ in body.iter_chunks(BLOCK):
            pass
    elif operation == "download-boto3-transfer":

        class Sink:
            def write(self, data):
                return len(data)

        client.download_fileobj(bucket, key, Sink())
    else:
        raise SystemExit(f"unknown operation {operation}")
    seconds = time.perf_counter() - start
    # Not timed: keep the server's memory store small (only the download source stays).
    if operation.startswith("upload-portal"):
        default_storage.delete(saved)
    elif operation == "upload-boto3-file":
        client.delete_object(Bucket=bucket, Key=saved)
    elif operation == "upload-boto3" and not keep:
        client.delete_object(Bucket=bucket, Key=stored)
    return seconds, stored


def one(operation: str, path: str, key: str, repeats: int) -> dict:
    """Run one operation ``repeats`` times in this (fresh) process: seconds per run and the
    peak RSS growth over the process's warmed-up baseline."""
    env = _setup()
    base = rss_mb()
    times = []
    result_key = key
    for run in range(repeats):
        seconds, stored = _step(operation, path, key, str(run), env, keep=run == repeats - 1)
        times.append(seconds)
        result_key = stored or result_key
    return {"seconds": times, "rss_growth_mb": rss_mb() - base, "key": result_key}


PAIRED = (
    "upload-portal",
    "upload-portal-store",
    "upload-boto3",
    "upload-boto3-file",
    "download-portal",
    "download-portal-head",
    "download-boto3-stream",
)


def paired(path: str, key: str, rounds: int) -> dict:
    """Every operation once per round, in a shuffled order, ``rounds`` times, in one process:
    load from other processes on a shared machine then hits portal and boto3 alike (the
    per-operation processes above run each operation as one block of runs, so a burst of
    load during one block skews its ratio). Seconds per operation."""
    import random

    env = _setup()
    client, bucket, _ = env
    source = f"bench/{key}-paired-source/{Path(path).name}"
    client.upload_file(path, bucket, source)
    times: dict[str, list[float]] = {operation: [] for operation in PAIRED}
    order = list(PAIRED)
    rng = random.Random(key)
    for run in range(rounds):
        rng.shuffle(order)
        for operation in order:
            seconds, _ = _step(operation, path, source, f"p{run}", env)
            times[operation].append(seconds)
    client.delete_object(Bucket=bucket, Key=source)
    return {"seconds": times}


def _run_self(what: str, *args: str) -> dict:
    """Run this script with ``args`` in a process of its own; its last output line is JSON."""
    out = subprocess.run(  # noqa: S603 - this script, with fixed arguments
        [sys.executable, __file__, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"{what} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_one(operation: str, path: Path, key: str, repeats: int) -> dict:
    return _run_self(operation, "--one", operation, str(path), key, str(repeats))


def run_paired(path: Path, key: str, rounds: int) -> dict:
    return _run_self("paired run", "--paired", str(path), key, str(rounds))


def main() -> None:
    if not (os.environ.get("S3_ENDPOINT_URL") and os.environ.get("S3_BUCKET")):
        raise SystemExit("set the S3_* variables (run through .ci/ceph.sh run ...)")
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    rows = []
    paired_times: dict[str, list[float]] = {}
    try:
        for label, size in SIZES.items():
            path = make_file(size, folder)
            run_id = uuid.uuid4().hex[:8]
            results: dict[str, dict] = {}
            # Interleave portal and boto3 so drift in the server affects both alike.
            for operation in (
                "upload-portal",
                "upload-portal-store",
                "upload-boto3",
                "upload-boto3-file",
            ):
                results[operation] = run_one(operation, path, run_id, REPEATS[label])
            stored = results["upload-boto3"]["key"]
            for operation in (
                "download-portal",
                "download-portal-head",
                "download-boto3-stream",
                "download-boto3-transfer",
            ):
                results[operation] = run_one(operation, path, stored, REPEATS[label])
            if label == "1MB":
                paired_times = run_paired(path, run_id, PAIRED_ROUNDS)["seconds"]
            for operation, result in results.items():
                seconds = statistics.median(result["seconds"])
                rows.append(
                    {
                        "size": label,
                        "operation": operation,
                        "median_s": seconds,
                        "mb_per_s": size / 1024 / 1024 / seconds,
                        "peak_rss_growth_mb": result["rss_growth_mb"],
                    }
                )
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    print(f"{'size':6} {'operation':26} {'median s':>9} {'MB/s':>8} {'peak RSS +MB':>13}")
    for row in rows:
        print(
            f"{row['size']:6} {row['operation']:26} {row['median_s']:9.3f} "
            f"{row['mb_per_s']:8.1f} {row['peak_rss_growth_mb']:13.1f}"
        )
    by = {(r["size"], r["operation"]): r for r in rows}
    print("\nratios (portal throughput / boto3 throughput; goal >= 0.8):")
    for label in SIZES:
        for portal, baseline in (
            ("upload-portal", "upload-boto3"),
            ("upload-portal-store", "upload-boto3"),
            ("upload-portal", "upload-boto3-file"),
            ("upload-portal-store", "upload-boto3-file"),
            ("download-portal", "download-boto3-stream"),
            ("download-portal", "download-boto3-transfer"),
            ("download-portal-head", "download-boto3-stream"),
        ):
            ratio = by[(label, portal)]["mb_per_s"] / by[(label, baseline)]["mb_per_s"]
            print(f"  {label:6} {portal:20} vs {baseline:24} {ratio:5.2f}x")
    if paired_times:
        print(
            f"\npaired, 1 MB: every operation once per round, shuffled, {PAIRED_ROUNDS} rounds "
            "in one process (median ms; ratio = median over rounds of boto3 s / portal s):"
        )
        for operation, seconds in paired_times.items():
            print(f"  {operation:26} {statistics.median(seconds) * 1000:7.1f} ms")
        for portal, baseline in (
            ("upload-portal", "upload-boto3"),
            ("upload-portal", "upload-boto3-file"),
            ("upload-portal-store", "upload-boto3"),
            ("upload-portal-store", "upload-boto3-file"),
            ("download-portal", "download-boto3-stream"),
            ("download-portal-head", "download-boto3-stream"),
        ):
            per_round = [
                b / p for p, b in zip(paired_times[portal], paired_times[baseline], strict=True)
            ]
            ratio = statistics.median(per_round)
            print(f"  {portal:20} vs {baseline:24} {ratio:5.2f}x")
    print(json.dumps(rows))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    elif len(sys.argv) == 5 and sys.argv[1] == "--paired":
        print(json.dumps(paired(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        main()
