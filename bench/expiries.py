"""Reading expiries on a store that holds many runs: what ``ircli watch`` does every 10 s.

Builds a store of ``--runs`` finished runs (``run.started`` and ``run.finished`` records as a
mass action writes them), ``--expiring`` of them flag changes with an expiry, then times, side
by side on the same store:

- a fresh read (``expiries(store, now)``: the ``run.started`` records that expire or change a
  flag, as the database hands them over; what ``ircli runs due`` and ``runs list`` do once per
  command);
- a kept ``ExpiryScan`` (what a watch holds while it runs): its first read, its next reads with
  nothing new, and its next read after one more run.

Prints a table and writes bench/results/expiries.json.

    python bench/expiries.py [--runs 10000,50000] [--expiring 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore, open_store
from ircli.clock import format_utc
from ircli.executor.history import COUNT_KEYS
from ircli.executor.reverts import ExpiryScan, expiries

RESULTS = Path(__file__).resolve().parent / "results" / "expiries.json"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def started(run: int, expiring: bool) -> NewRecord:
    params: dict[str, Any] = {
        "action": "flags.set" if expiring else "streams.suspend",
        "profile": "sandbox",
        "profile_sha256": "0" * 64,
        "params": {"enabled": False} if expiring else {},
        "reason": "bench: live flood",
        "targets": ["live_streaming"] if expiring else [f"st_{run:06d}_{n}" for n in range(8)],
    }
    if expiring:
        params["expiry"] = {
            "expires_at": format_utc(NOW + timedelta(hours=1)),
            "revert_action": "flags.set",
            "revert_params": {"live_streaming": {"enabled": True, "rollout_percent": 100}},
        }
    return NewRecord(kind="run.started", run=f"run_{run:06d}", step="adhoc", params=params)


def finished(flagged: bool) -> dict[str, Any]:
    """A ``run.finished`` outcome as the executor writes it: the status and every count."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["done"] = 1 if flagged else 8
    return {"status": "completed", "counts": counts}


def build(store: AuditStore, runs: int, expiring: int) -> None:
    every = max(1, runs // max(1, expiring))
    batch: list[NewRecord] = []
    for run in range(runs):
        flagged = expiring > 0 and run % every == 0 and run // every < expiring
        batch.append(started(run, flagged))
        batch.append(
            NewRecord(kind="run.finished", run=f"run_{run:06d}", outcome=finished(flagged))
        )
        if len(batch) >= 4000:
            store.append_many(batch)
            batch = []
    store.append_many(batch)


def median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        call()
        times.append(time.perf_counter() - begun)
    return round(statistics.median(times) * 1000, 2)


def measure(runs: int, expiring: int, repeat: int, workdir: Path) -> dict[str, Any]:
    with open_store(str(workdir / f"expiries-{runs}.db"), operator="bench") as store:
        build(store, runs, expiring)
        fresh = median_ms(lambda: expiries(store, NOW), repeat)
        scan = ExpiryScan()
        begun = time.perf_counter()
        found = expiries(store, NOW, scan)
        first = round((time.perf_counter() - begun) * 1000, 2)
        assert [e.as_json() for e in found] == [e.as_json() for e in expiries(store, NOW)]
        idle = median_ms(lambda: expiries(store, NOW, scan), repeat)
        store.append(started(runs, expiring=False))
        begun = time.perf_counter()
        expiries(store, NOW, scan)
        one_more = round((time.perf_counter() - begun) * 1000, 2)
    return {
        "runs": runs,
        "expiring": len(found),
        "fresh_read_ms": fresh,
        "kept_first_read_ms": first,
        "kept_next_read_ms": idle,
        "kept_read_after_one_run_ms": one_more,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="10000,50000", help="store sizes, in runs")
    parser.add_argument("--expiring", type=int, default=20, help="expiring flag changes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            measure(int(runs), args.expiring, args.repeat, Path(tmp))
            for runs in args.runs.split(",")
        ]
    result = {
        "benchmark": "expiries",
        "python": platform.python_version(),
        "settings": vars(args),
        "rows": rows,
    }
    header = ("runs", "expiring", "fresh read", "kept: first", "kept: next", "after 1 run")
    print(" | ".join(header))
    for row in rows:
        print(
            f"{row['runs']:,} | {row['expiring']} | {row['fresh_read_ms']} ms | "
            f"{row['kept_first_read_ms']} ms | {row['kept_next_read_ms']} ms | "
            f"{row['kept_read_after_one_run_ms']} ms"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
