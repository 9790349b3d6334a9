"""Time ``make test``'s pytest command for an old commit and for this tree, in one run.

Usage (from the project root)::

    .venv/bin/python bench/suite_time.py                 # old = b91def3 (main before the Reshape)
    .venv/bin/python bench/suite_time.py --old <commit> --repeats 2 --mode cold
    .venv/bin/python bench/suite_time.py --new <commit>  # a commit instead of the working tree

The old commit is extracted (``git archive``) into a temporary folder; the new side is this
working tree as it is (or ``--new``, extracted the same way). Both run the same command with the
same interpreter (this venv) and the same environment: ``python -m pytest -q`` plus
``--pytest-args`` (what ``make test`` runs: SQLite, the default hypothesis profile, every test
including the search-engine leg on osmem-server when it is installed). Server variables
(DATABASE_URL, PORTAL_SEARCH_URL, S3_*, REDIS_URL, HYPOTHESIS_PROFILE) are removed so both sides
run the embedded defaults.

Each side gets its own SQLite test database (PORTAL_TEST_DB in the temporary folder):

- ``--mode warm`` (default, what ``make test`` does from its second run on): the database is
  created and migrated first by an untimed ``--create-db`` run of one small test, then the timed
  run reuses it (``--reuse-db`` from pyproject.toml);
- ``--mode cold``: the timed run passes ``--create-db`` (migrations included).

With ``--repeats N`` the runs alternate old, new, old, new... (the machine's load drifts); the
medians are compared. Printed: wall time and CPU time (user+sys of pytest and its children) of
each run, the tests passed/skipped/failed, and the ratios new/old. The CPU ratio is the steadier
one on a shared machine; the goal (issue #10) is a wall ratio of at most 0.5.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLD = "b91def3"  # main before the Reshape (issue #10)
GOAL = 0.5
#: Tried in order for the untimed preparation run of --mode warm (one that exists on both sides).
PREPARE = ["tests/test_smoke.py", "kb/tests/test_smoke.py"]
SERVER_VARIABLES = (
    "DATABASE_URL",
    "PORTAL_SEARCH_URL",
    "REDIS_URL",
    "HYPOTHESIS_PROFILE",
    "PORTAL_TEST_DB",
    "TEST_MEDIA_ROOT",
    "PORTAL_IMPORT_JOURNAL_DIR",
)


@dataclass
class Run:
    side: str
    wall: float
    cpu: float
    returncode: int
    summary: str
    counts: dict[str, int]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default=DEFAULT_OLD, help=f"old commit (default {DEFAULT_OLD})")
    parser.add_argument("--new", default="", help="new commit (default: this working tree)")
    parser.add_argument("--mode", choices=["warm", "cold"], default="warm")
    parser.add_argument("--repeats", type=int, default=1, help="runs per side, alternating")
    parser.add_argument(
        "--pytest-args", default="", help='extra pytest arguments for both, e.g. "-m not slow"'
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--log-dir", default="", help="write each run's output there")
    return parser.parse_args(argv)


def git(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), *args],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def extract(commit: str, target: Path) -> None:
    """``git archive`` of ``commit`` into ``target`` (no .git: the same files the tests see)."""
    target.mkdir(parents=True)
    archive = target.parent / f"{target.name}.tar"
    git("archive", "--format=tar", "-o", str(archive), commit)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()


def environment(workdir: Path, side: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith("S3_")}
    env["PORTAL_TEST_DB"] = str(workdir / f"{side}.sqlite3")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def prepare(tree: Path, env: dict[str, str]) -> None:
    """Create and migrate the side's test database (untimed; --mode warm)."""
    target = next((p for p in PREPARE if (tree / p).exists()), None)
    if target is None:
        sys.exit(f"no preparation test in {tree} (tried {', '.join(PREPARE)})")
    cmd = [sys.executable, "-m", "pytest", "-q", "--create-db", "-p", "no:randomly", target]
    result = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"preparing {tree} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def timed(side: str, tree: Path, env: dict[str, str], args: argparse.Namespace, log: Path | None):
    cmd = [sys.executable, "-m", "pytest", "-q", *args.pytest_args.split()]
    if args.mode == "cold":
        cmd.append("--create-db")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)  # noqa: S603
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = result.stdout + result.stderr
    if log is not None:
        log.write_text(f"$ {' '.join(cmd)}\n(cwd {tree})\n\n{output}")
    lines = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    summary = lines[-1].strip("= ") if lines else "(no pytest summary)"
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    return Run(side, wall, cpu, result.returncode, summary, counts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="suite-time-"))
    log_dir = Path(args.log_dir) if args.log_dir else None
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    try:
        old_commit = git("rev-parse", "--short", args.old)
        trees = {"old": workdir / "old"}
        extract(args.old, trees["old"])
        if args.new:
            trees["new"] = workdir / "new"
            extract(args.new, trees["new"])
            new_label = f"{args.new} ({git('rev-parse', '--short', args.new)})"
        else:
            trees["new"] = ROOT
            head = git("describe", "--always", "--dirty")
            new_label = f"working tree ({head})"
        envs = {side: environment(workdir, side) for side in trees}
        print(f"old: {old_commit}   new: {new_label}")
        print(
            f"command: {sys.executable} -m pytest -q {args.pytest_args}".rstrip()
            + f"   mode: {args.mode}   repeats: {args.repeats}   cpus: {os.cpu_count()}"
        )
        if args.mode == "warm":
            for side, tree in trees.items():
                prepare(tree, envs[side])
        runs: list[Run] = []
        for repeat in range(args.repeats):
            for side in ("old", "new"):
                log = log_dir / f"{side}-{repeat + 1}.log" if log_dir else None
                run = timed(side, trees[side], envs[side], args, log)
                runs.append(run)
                print(
                    f"  {side} #{repeat + 1}: wall {run.wall:7.1f} s   cpu {run.cpu:7.1f} s   "
                    f"exit {run.returncode}   {run.summary}",
                    flush=True,
                )
        wall = {s: statistics.median(r.wall for r in runs if r.side == s) for s in trees}
        cpu = {s: statistics.median(r.cpu for r in runs if r.side == s) for s in trees}
        print()
        print(f"{'':8}{'wall (s)':>10}{'cpu (s)':>10}")
        for side in ("old", "new"):
            print(f"{side:8}{wall[side]:10.1f}{cpu[side]:10.1f}")
        wall_ratio, cpu_ratio = wall["new"] / wall["old"], cpu["new"] / cpu["old"]
        print(f"{'new/old':8}{wall_ratio:10.2f}{cpu_ratio:10.2f}")
        verdict = "met" if wall_ratio <= GOAL else "NOT met"
        print(f"goal: wall ratio <= {GOAL}: {verdict}")
        failed = [r for r in runs if r.returncode != 0]
        for run in failed:
            print(f"  {run.side} run failed (exit {run.returncode}): {run.summary}")
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
