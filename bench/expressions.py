"""Expression filtering speed: a typical containment filter over 200,000 sandbox-like objects.

Side by side in one run: ircli's compiled expression (``Expression.filter``), the same
condition as a plain Python lambda applied with a list comprehension, and the lambda inlined
in the comprehension (the floor). Medians of several runs. Prints a table and writes
bench/results/expressions.json.

    python bench/expressions.py [--objects N] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ircli.playbook.context import Context, Origin, Scope
from ircli.playbook.expr import compile_expression
from ircli.yamlfile import Location

RESULTS = Path(__file__).resolve().parent / "results" / "expressions.json"
NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
FILTER = (
    "status == 'active' and age_days(created_at) < inputs.max_age"
    " and (device_cluster_size >= inputs.farm or 100 <= ip_cluster_size < 200)"
    " and id not in steps.allowlist.ids"
)


def objects(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        {
            "id": f"acc_{i:07d}",
            "status": "active" if rng.random() < 0.97 else "frozen",
            "created_at": (
                f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T10:00:00.{i % 1000:03d}Z"
            ),
            "report_count": rng.choice((0, 0, 0, 1, 2, 8)),
            "device_cluster_size": rng.choice((1, 1, 2, 3, 15, 55)),
            "ip_cluster_size": rng.choice((1, 1, 140, 250)),
            "live_stream_ids": [],
        }
        for i in range(count)
    ]


def median_seconds(run: Any, repeat: int) -> tuple[float, int]:
    times, kept = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        kept = len(run())
        times.append(time.perf_counter() - start)
    return statistics.median(times), kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = objects(args.objects)
    allow = [f"acc_{i:07d}" for i in range(0, args.objects, 97)]
    context = Context(
        inputs={"max_age": 31.0, "farm": 25},
        steps={"allowlist": {"ids": allow}},
        now=NOW,
    )
    scope = Scope(
        inputs=frozenset({"max_age", "farm"}),
        steps={"allowlist": frozenset({"ids"})},
        item=True,
    )
    origin = Origin(Location("bench", 1, 1), "where")
    start = time.perf_counter()
    for _ in range(100):
        compiled = compile_expression(FILTER, scope, origin)
    compile_ms = (time.perf_counter() - start) * 1000 / 100

    allowed = set(allow)
    now = NOW.timestamp()

    def age_days(text: str) -> float:
        return (now - datetime.fromisoformat(text).timestamp()) / 86400.0

    def predicate(o: dict[str, Any]) -> bool:
        return (
            o["status"] == "active"
            and age_days(o["created_at"]) < 31.0
            and (o["device_cluster_size"] >= 25 or 100 <= o["ip_cluster_size"] < 200)
            and o["id"] not in allowed
        )

    runs = {
        "ircli Expression.filter": lambda: compiled.filter(items, context),
        "plain lambda, [o for o in items if f(o)]": lambda: [o for o in items if predicate(o)],
        "inlined comprehension (floor)": lambda: [
            o
            for o in items
            if o["status"] == "active"
            and (now - datetime.fromisoformat(o["created_at"]).timestamp()) / 86400.0 < 31.0
            and (o["device_cluster_size"] >= 25 or 100 <= o["ip_cluster_size"] < 200)
            and o["id"] not in allowed
        ],
    }
    rows = []
    for name, run in runs.items():
        seconds, kept = median_seconds(run, args.repeat)
        rows.append(
            {
                "method": name,
                "filter_ms": round(seconds * 1000, 1),
                "objects_per_second": round(args.objects / seconds),
                "kept": kept,
            }
        )
    assert len({row["kept"] for row in rows}) == 1, "the three methods disagree"
    print(f"filter: {FILTER}")
    print(f"{args.objects:,} objects, median of {args.repeat}; compile {compile_ms:.3f} ms\n")
    print(f"{'method':44} {'filter ms':>10} {'objects/s':>14} {'kept':>8}")
    for row in rows:
        print(
            f"{row['method']:44} {row['filter_ms']:>10.1f} "
            f"{row['objects_per_second']:>14,} {row['kept']:>8,}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "objects": args.objects,
                "repeat": args.repeat,
                "filter": FILTER,
                "compile_ms": round(compile_ms, 3),
                "rows": rows,
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
