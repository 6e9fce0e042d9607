"""Target lookups: ``audit log --target`` on a store of over 1,000,000 indexed targets.

Builds the store through the executor's own journal (``RunJournal``: each ``action.intent``
names 2,048 targets sent as a batch, each ``action.outcome`` holds them in groups, every row of
the target index written in its record's transaction): ``--runs`` runs of ``--run-targets``
new accounts each, then one run that acts again on ``--spread`` accounts drawn from all of
them (ids far apart: the index's worst case for appends). Then times:

- lookups in-process: ``store.records(RecordFilter(target=ID))`` and each record's
  ``target_entry`` (what ``audit log --target`` prints) for ``--lookups`` random ids, some
  absent — median, p95 and max;
- ``ircli --json audit log --target ID`` end to end (a new process; start-up included) for a
  few ids, next to ``ircli --version``;
- ``check_target_index`` (what ``audit verify`` adds) and a rebuild of the index by migration
  0002 on a copy.

Prints a table and writes bench/results/targets.json. The goal: a lookup under 50 ms.

    python bench/targets.py [--runs 8] [--run-targets 65536] [--spread 16384] [--lookups 300]
                            [--store PATH (kept and reused)]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore, open_store
from ircli.audit.targets import target_entry
from ircli.executor.journal import RunJournal, RunSpec, TargetResult
from ircli.platform.model import Outcome

RESULTS = Path(__file__).resolve().parent / "results" / "targets.json"
GROUP = 2048
"""Targets per intent and per outcome record: the most the executor's journal puts in one."""
DONE = TargetResult(Outcome.DONE, 200, 1, 41)
ALREADY = TargetResult(Outcome.ALREADY_DONE, 200, 1, 38)
GONE = TargetResult(Outcome.FAILED, 404, 2, 12, "HTTP 404: not_found")


def account(number: int) -> str:
    return f"acc_{number:09d}"


async def act(store: AuditStore, run: str, action: str, ids: list[str]) -> list[float]:
    """One run through the journal; returns the seconds each chunk's two appends took."""
    spec = RunSpec(run=run, step="adhoc", action=action, targets=tuple(ids), params={},
                   profile="sandbox", profile_sha256="0" * 64, batch_size=GROUP)  # fmt: skip
    journal = RunJournal(store, spec)
    journal.started()
    took = []
    for offset in range(0, len(ids), GROUP):
        chunk = ids[offset : offset + GROUP]
        begun = time.perf_counter()
        await journal.intend(chunk, batch=True)
        journal.add(chunk[:32], GONE)  # settled first: one outcome record holds all groups
        journal.add(chunk[32:64], ALREADY)
        journal.add(chunk[64:], DONE)
        await journal.flush()
        took.append(time.perf_counter() - begun)
    journal.finished("completed", {"targets": len(ids)})
    return took


def build(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    total = args.runs * args.run_targets
    clustered: list[float] = []
    begun = time.perf_counter()
    with open_store(str(path), operator="bench") as store:
        for number in range(args.runs):
            first = number * args.run_targets
            ids = [account(first + k) for k in range(args.run_targets)]
            clustered += asyncio.run(act(store, f"RUN-BENCH-{number:03d}", "accounts.freeze", ids))
        spread_ids = [account(n) for n in rng.sample(range(total), args.spread)]
        spread = asyncio.run(act(store, "RUN-BENCH-SPREAD", "accounts.reset_password", spread_ids))
        records = store.count()
    seconds = time.perf_counter() - begun
    return {
        "seconds": round(seconds, 1),
        "records": records,
        "targets": total,
        "index_entries": 2 * (total + args.spread),
        "clustered_ms_per_record": _ms(statistics.median(clustered) / 2),
        "spread_ms_per_record": _ms(statistics.median(spread) / 2),
        "file_mb": round(path.stat().st_size / 1e6),
    }


def index_entries(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM audit_targets").fetchone()[0])
    finally:
        connection.close()


def lookups(store: AuditStore, ids: list[str]) -> tuple[list[float], int]:
    """Seconds per lookup (records and what each says of the target); records found."""
    times, found = [], 0
    for target in ids:
        begun = time.perf_counter()
        entries = [target_entry(r, target) for r in store.records(RecordFilter(target=target))]
        times.append(time.perf_counter() - begun)
        found += len(entries)
    return times, found


def cli_seconds(path: Path, *argv: str) -> float:
    begun = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ircli", "--db", str(path), *argv],
                          capture_output=True, text=True, check=True)  # fmt: skip
    elapsed = time.perf_counter() - begun
    if "--target" in argv:
        assert json.loads(done.stdout), f"nothing found for {argv}"
    return elapsed


def rebuild_seconds(path: Path, workdir: Path) -> float:
    """Migration 0002 on a copy taken back to revision 0001."""
    copy = workdir / "rebuild.db"
    shutil.copy(path, copy)
    connection = sqlite3.connect(copy)
    connection.execute("DROP TABLE audit_targets")
    connection.execute("UPDATE alembic_version SET version_num = '0001'")
    connection.commit()
    connection.close()
    begun = time.perf_counter()
    open_store(str(copy), operator="bench").close()
    elapsed = time.perf_counter() - begun
    copy.unlink()
    return elapsed


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs of new accounts")
    parser.add_argument("--run-targets", type=int, default=65_536, help="accounts per run")
    parser.add_argument("--spread", type=int, default=16_384, help="accounts acted on again")
    parser.add_argument("--lookups", type=int, default=300, help="random ids looked up")
    parser.add_argument("--cli", type=int, default=5, help="end-to-end CLI lookups")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, help="keep the store here; reuse it if it exists")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = args.store or workdir / "targets.db"
        built = None if path.exists() else build(path, args)
        total = args.runs * args.run_targets
        rng = random.Random(args.seed + 1)
        present = [account(n) for n in rng.sample(range(total), args.lookups)]
        absent = [account(total + n) for n in range(max(1, args.lookups // 10))]
        with open_store(str(path), operator="bench", create=False) as store:
            lookups(store, present[:20])  # warm the page cache as any second lookup would
            times, found = lookups(store, present)
            absent_times, _ = lookups(store, absent)
            begun = time.perf_counter()
            check = store.check_target_index()
            check_seconds = time.perf_counter() - begun
            assert check is not None
            assert check.ok, check
        version = statistics.median(cli_seconds(path, "--version") for _ in range(args.cli))
        cli = statistics.median(
            cli_seconds(path, "--json", "audit", "log", "--target", target)
            for target in present[: args.cli]
        )
        rebuild = rebuild_seconds(path, workdir)
        result = {
            "benchmark": "targets",
            "python": platform.python_version(),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "store": built or {"reused": str(path)},
            "index_entries": index_entries(path),
            "lookups": {
                "ids": len(present),
                "records_found": found,
                "median_ms": _ms(statistics.median(times)),
                "p95_ms": _ms(percentile(times, 0.95)),
                "max_ms": _ms(max(times)),
                "absent_median_ms": _ms(statistics.median(absent_times)),
                "goal_ms": 50,
            },
            "cli_lookup_s": round(cli, 3),
            "cli_version_s": round(version, 3),
            "check_index_s": round(check_seconds, 2),
            "rebuild_index_s": round(rebuild, 1),
        }
    print_table(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def print_table(result: dict[str, Any]) -> None:
    store, found = result["store"], result["lookups"]
    rows = [("index entries", f"{result['index_entries']:,}")]
    if "seconds" in store:
        rows += [
            ("records / file", f"{store['records']:,} / {store['file_mb']:,} MB"),
            ("build", f"{store['seconds']:.1f} s"),
            ("append, clustered ids", f"{store['clustered_ms_per_record']:.2f} ms per record"),
            ("append, spread ids", f"{store['spread_ms_per_record']:.2f} ms per record"),
        ]
    rows += [
        ("lookups", f"{found['ids']} ids, {found['records_found']:,} records"),
        ("lookup median", f"{found['median_ms']:.2f} ms"),
        ("lookup p95", f"{found['p95_ms']:.2f} ms (goal < {found['goal_ms']} ms)"),
        ("lookup max", f"{found['max_ms']:.2f} ms"),
        ("lookup, absent id", f"{found['absent_median_ms']:.2f} ms"),
        ("CLI lookup, end to end", f"{result['cli_lookup_s']:.3f} s"),
        ("CLI --version", f"{result['cli_version_s']:.3f} s"),
        ("check_target_index", f"{result['check_index_s']:.2f} s"),
        ("rebuild (migration 0002)", f"{result['rebuild_index_s']:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
