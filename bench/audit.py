"""Audit store throughput: appends per second with the hash chain on SQLite.

Side by side in one run: ircli's store (single appends, batches of 100 and 1,000) and the
same rows written with plain ``sqlite3`` and no chain (the floor the store is built on); then
grouped records as the executor writes them — an ``action.intent`` naming 2,048 targets, then
its ``action.outcome`` with the targets in two groups, one record per append — next to the
same rows in plain ``sqlite3``. Medians of several runs. Prints a table and writes
bench/results/audit.json.

    python bench/audit.py [--records N] [--grouped N] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ircli.audit.records import NewRecord
from ircli.audit.store import open_store

RESULTS = Path(__file__).resolve().parent / "results" / "audit.json"


def record(i: int) -> NewRecord:
    return NewRecord(
        kind="action.intent",
        incident="INC-20261128-BENCH",
        run="run-bench",
        step="suspend",
        target=f"stream-{i:06d}",
        params={"action": "streams.suspend", "reason": "bot flood", "key": f"k-{i}"},
    )


GROUP = 2048
"""Targets per grouped record: the most the executor's journal puts in one."""


def grouped_record(i: int) -> NewRecord:
    """Record ``i`` of a batch run: even ones intents, odd ones the outcomes of the same ids."""
    ids = [f"acc_{(i // 2) * GROUP + k:09d}" for k in range(GROUP)]
    common = {"incident": "INC-20261128-BENCH", "run": "run-bench", "step": "freeze"}
    if i % 2 == 0:
        params = {"action": "accounts.freeze", "targets": ids, "batch": True}
        return NewRecord(kind="action.intent", params=params, **common)
    done = {"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 41, "error": None}
    groups = [
        {**done, "targets": ids[:-48]},
        {**done, "outcome": "already_done", "targets": ids[-48:]},
    ]
    return NewRecord(kind="action.outcome", params={"action": "accounts.freeze"},
                     outcome={"groups": groups}, **common)  # fmt: skip


def ircli_appends(path: Path, count: int, batch: int) -> float:
    make = grouped_record if batch == 0 else record
    records = [make(i) for i in range(count)]
    batch = max(batch, 1)
    with open_store(str(path), operator="bench") as store:
        start = time.perf_counter()
        for offset in range(0, count, batch):
            chunk = records[offset : offset + batch]
            if batch == 1:
                store.append(chunk[0])
            else:
                store.append_many(chunk)
        elapsed = time.perf_counter() - start
        assert store.verify().ok
    return count / elapsed


def raw_sqlite(path: Path, count: int, batch: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE t (seq INTEGER PRIMARY KEY, kind TEXT, target TEXT, params TEXT)"
    )
    rows = [raw_row(i, grouped=batch == 0) for i in range(count)]
    batch = max(batch, 1)
    start = time.perf_counter()
    for offset in range(0, count, batch):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO t VALUES (?,?,?,?)", rows[offset : offset + batch])
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return count / elapsed


def raw_row(i: int, *, grouped: bool) -> tuple[int, str, str | None, str]:
    if not grouped:
        return (i + 1, "action.intent", f"stream-{i:06d}", '{"action":"streams.suspend"}')
    new = grouped_record(i)
    return (i + 1, new.kind, None, json.dumps({**new.params, **new.outcome}))


def median_rate(
    fn: Callable[[Path, int, int], float], count: int, batch: int, repeat: int
) -> float:
    rates = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            rates.append(fn(Path(tmp) / "bench.db", count, batch))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument(
        "--grouped", type=int, default=200, help="grouped records (2,048 targets each)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for batch in (1, 100, 1_000, 0):  # 0: grouped records, one per append
        count = {1: min(args.records, 3_000), 0: args.grouped}.get(batch, args.records)
        ours = median_rate(ircli_appends, count, batch, args.repeat)
        floor = median_rate(raw_sqlite, count, batch, args.repeat)
        rows.append(
            {
                "batch": batch or 1,
                "targets_per_record": GROUP if batch == 0 else 1,
                "records": count,
                "ircli_per_s": round(ours),
                "raw_sqlite_per_s": round(floor),
                "ratio": round(ours / floor, 3),
            }
        )
    header = ("batch", "targets", "records", "ircli appends/s", "raw sqlite3 rows/s", "ratio")
    print(f"{header[0]:>6} {header[1]:>8} {header[2]:>8} {header[3]:>16} {header[4]:>19} "
          f"{header[5]:>6}")  # fmt: skip
    for row in rows:
        print(
            f"{row['batch']:>6} {row['targets_per_record']:>8,} {row['records']:>8} "
            f"{row['ircli_per_s']:>16,} {row['raw_sqlite_per_s']:>19,} {row['ratio']:>6.2f}"
        )
    summary = {
        "benchmark": "audit",
        "python": platform.python_version(),
        "repeat": args.repeat,
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
