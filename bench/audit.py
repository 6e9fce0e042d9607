"""Audit store throughput: appends per second with the hash chain, on SQLite and PostgreSQL.

Side by side in one run: ircli's store (single appends, batches of 100 and 1,000) and the
same rows written with plain ``sqlite3`` and no chain (the floor the store is built on); then
grouped records as the executor writes them — an ``action.intent`` naming 2,048 targets, then
its ``action.outcome`` with the targets in two groups, one record per append — next to the
same rows in plain ``sqlite3``. The same again on a throwaway PostgreSQL server on loopback
(tests/pgserver.py, committing durably as a default server does), next to plain ``psycopg``
inserts; without the server binaries those rows are skipped, and the bench says why. Medians
of several runs. Prints a table and writes bench/results/audit.json.

    python bench/audit.py [--records N] [--grouped N] [--repeat K] [--no-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ircli.audit.records import NewRecord  # noqa: E402
from ircli.audit.store import open_store  # noqa: E402
from tests.pgserver import PostgresServer, PostgresUnavailable, throwaway_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "audit.json"


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


def ircli_appends(where: str, count: int, batch: int) -> float:
    """Appends/s through ircli's store at ``where`` (a SQLite path or a database URL)."""
    make = grouped_record if batch == 0 else record
    records = [make(i) for i in range(count)]
    batch = max(batch, 1)
    with open_store(where, operator="bench") as store:
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


def raw_sqlite(path: str, count: int, batch: int) -> float:
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


def raw_postgres(url: str, count: int, batch: int) -> float:
    """The same rows as ``raw_sqlite`` through plain psycopg, one transaction per batch."""
    import psycopg

    rows = [raw_row(i, grouped=batch == 0) for i in range(count)]
    batch = max(batch, 1)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute(
            "CREATE TABLE t (seq BIGINT PRIMARY KEY, kind TEXT, target TEXT, params TEXT)"
        )
        connection.commit()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for offset in range(0, count, batch):
                cursor.executemany(
                    "INSERT INTO t VALUES (%s, %s, %s, %s)", rows[offset : offset + batch]
                )
                connection.commit()
        elapsed = time.perf_counter() - start
    return count / elapsed


def raw_row(i: int, *, grouped: bool) -> tuple[int, str, str | None, str]:
    if not grouped:
        return (i + 1, "action.intent", f"stream-{i:06d}", '{"action":"streams.suspend"}')
    new = grouped_record(i)
    return (i + 1, new.kind, None, json.dumps({**new.params, **new.outcome}))


Fresh = Callable[[], AbstractContextManager[str]]
"""A new, empty store location for each measured run (a SQLite path, a database URL)."""


@contextlib.contextmanager
def sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield str(Path(tmp) / "bench.db")


def postgres_database(server: PostgresServer) -> Fresh:
    @contextlib.contextmanager
    def fresh() -> Iterator[str]:
        url = server.create_database("bench")
        try:
            yield url
        finally:
            server.drop_database(url)

    return fresh


def median_rate(
    fn: Callable[[str, int, int], float], fresh: Fresh, count: int, batch: int, repeat: int
) -> float:
    rates = []
    for _ in range(repeat):
        with fresh() as where:
            rates.append(fn(where, count, batch))
    return statistics.median(rates)


CASES = (1, 100, 1_000, 0)
"""Records per append; 0: grouped records of 2,048 targets, one per append."""


def records_for(batch: int, args: argparse.Namespace) -> int:
    return {1: min(args.records, 3_000), 0: args.grouped}.get(batch, args.records)


def measure(
    fresh: Fresh, raw: Callable[[str, int, int], float], args: argparse.Namespace
) -> list[tuple[float, float]]:
    """(ircli appends/s, plain inserts/s) for each of ``CASES``, each run on a new store."""
    rates = []
    for batch in CASES:
        count = records_for(batch, args)
        ours = median_rate(ircli_appends, fresh, count, batch, args.repeat)
        rates.append((ours, median_rate(raw, fresh, count, batch, args.repeat)))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument(
        "--grouped", type=int, default=200, help="grouped records (2,048 targets each)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-postgres", action="store_true", help="SQLite only (no PostgreSQL server)"
    )
    args = parser.parse_args()
    sqlite = measure(sqlite_file, raw_sqlite, args)
    postgres: list[tuple[float, float]] | None = None
    skipped = "--no-postgres" if args.no_postgres else None
    if not args.no_postgres:
        try:
            with throwaway_server(fsync=True) as server:
                postgres = measure(postgres_database(server), raw_postgres, args)
        except PostgresUnavailable as missing:
            skipped = str(missing)
    rows = [table_row(batch, args, lite, postgres and postgres[i])
            for i, (batch, lite) in enumerate(zip(CASES, sqlite, strict=True))]  # fmt: skip
    print_table(rows)
    if skipped:
        print(f"PostgreSQL rows skipped: {skipped}.")
    summary = {
        "benchmark": "audit",
        "python": platform.python_version(),
        "repeat": args.repeat,
        "postgresql": "server defaults (fsync, synchronous_commit on), loopback"
        if postgres
        else f"skipped: {skipped}",
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def table_row(
    batch: int,
    args: argparse.Namespace,
    sqlite: tuple[float, float],
    postgres: tuple[float, float] | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "batch": batch or 1,
        "targets_per_record": GROUP if batch == 0 else 1,
        "records": records_for(batch, args),
        "ircli_per_s": round(sqlite[0]),
        "raw_sqlite_per_s": round(sqlite[1]),
        "ratio": round(sqlite[0] / sqlite[1], 3),
        "postgresql_ircli_per_s": None,
        "raw_postgresql_per_s": None,
        "postgresql_ratio": None,
    }
    if postgres:
        row["postgresql_ircli_per_s"] = round(postgres[0])
        row["raw_postgresql_per_s"] = round(postgres[1])
        row["postgresql_ratio"] = round(postgres[0] / postgres[1], 3)
    return row  # fmt: skip


def print_table(rows: list[dict[str, Any]]) -> None:
    def num(value: float | None, fmt: str = ",") -> str:
        return "-" if value is None else format(value, fmt)

    print(f"{'':24} {'SQLite':^41}  {'PostgreSQL':^41}")
    print(f"{'batch':>6} {'targets':>8} {'records':>8} "
          + f"{'ircli appends/s':>16} {'raw sqlite3 rows/s':>18} {'ratio':>5}  "
          + f"{'ircli appends/s':>16} {'raw psycopg rows/s':>18} {'ratio':>5}")  # fmt: skip
    for row in rows:
        print(
            f"{row['batch']:>6} {row['targets_per_record']:>8,} {row['records']:>8} "
            f"{row['ircli_per_s']:>16,} {row['raw_sqlite_per_s']:>18,} {row['ratio']:>5.2f}  "
            f"{num(row['postgresql_ircli_per_s']):>16} {num(row['raw_postgresql_per_s']):>18} "
            f"{num(row['postgresql_ratio'], '.2f'):>5}"
        )


if __name__ == "__main__":
    main()
