"""Watch drills: how fast the shipped watch detects and contains a timed attack, and at what cost.

Runs ``ircli drill live-flood-containment --watch --attack-start S`` (the full default world,
the shipped ``watch/live-flood.yaml`` pre-approved for the drill) on seeds 7, 1 and 42, each
without and with ``--faults 5xx=0.05,429=0.02``, and reads the score each drill prints:

- detection: ``detected_at_seconds - attack_started_at_seconds`` (goal ≤ 10 s, and never
  before the attack: a negative value is a false alarm);
- containment: ``contained_at_seconds - attack_started_at_seconds`` (goal ≤ 45 s);
- honest accounts frozen: ``collateral_accounts`` (goal 0).

Prints a table, writes ``bench/results/watch.json``, and exits 1 when a goal is missed (the
drills are the measurement; nothing here is asserted in the test suite).

    .venv/bin/python bench/watch.py [--attack-start 30] [--seeds 7,1,42] [--no-faults]
    .venv/bin/python bench/watch.py --soak 600

``--soak SECONDS`` measures instead what a long watch costs: ``ircli watch`` over a quiet
sandbox (the attack an hour away) with every signal polled each second, its resident memory
sampled every 10 s — first, median and last — into ``bench/results/watch-soak.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "watch.json"
FAULTS = "5xx=0.05,429=0.02"
DETECT_GOAL = 10.0
CONTAIN_GOAL = 45.0


def drill(seed: int, faults: str | None, attack_start: float, folder: Path) -> dict[str, Any]:
    """One watch drill in its own process and store; its score and verdict."""
    argv = [
        sys.executable, "-m", "ircli", "--json", "--db", str(folder / f"drill-{seed}.db"),
        "drill", "live-flood-containment", "--watch", "--attack-start", f"{attack_start:g}",
        "--seed", str(seed), "--formats", "json", "--report-dir", str(folder / "reports"),
    ]  # fmt: skip
    if faults:
        argv += ["--faults", faults]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRCLI_")}
    began = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    wall = time.monotonic() - began
    if not done.stdout.strip():
        raise SystemExit(f"drill seed {seed} faults {faults}: no result\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    score = result["score"]
    attack = score.get("attack_started_at_seconds")
    detected = score.get("detected_at_seconds")
    contained = score.get("contained_at_seconds")
    return {
        "seed": seed,
        "faults": faults,
        "passed": result["passed"],
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 1),
        "attack_started_at_seconds": attack,
        "detected_at_seconds": detected,
        "contained_at_seconds": contained,
        "detect_seconds": None if detected is None else round(detected - attack, 1),
        "contain_seconds": None if contained is None else round(contained - attack, 1),
        "honest_accounts_frozen": score.get("collateral_accounts"),
        "honest_streams_touched": score.get("collateral_streams"),
        "malicious_live_streams": score.get("malicious_live_streams"),
        "requests_total": score.get("requests_total"),
    }


def goals(row: dict[str, Any]) -> list[str]:
    """The goals a drill missed (empty when it met them all)."""
    missed = []
    detect, contain = row["detect_seconds"], row["contain_seconds"]
    if detect is None:
        missed.append("not detected")
    elif detect < 0:
        missed.append("detected before the attack")
    elif detect > DETECT_GOAL:
        missed.append(f"detected after {detect:g} s")
    if contain is None:
        missed.append("not contained")
    elif contain > CONTAIN_GOAL:
        missed.append(f"contained after {contain:g} s")
    if row["honest_accounts_frozen"] != 0:
        missed.append(f"{row['honest_accounts_frozen']} honest accounts frozen")
    if not row["passed"]:
        missed.append("drill criteria failed")
    return missed


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("seed", "faults", "detect s", "contain s", "honest frozen", "streams touched",
              "requests", "wall s", "goals")  # fmt: skip
    lines = [header]
    for row in rows:
        missed = goals(row)
        lines.append((
            str(row["seed"]), row["faults"] or "none",
            "-" if row["detect_seconds"] is None else f"{row['detect_seconds']:.1f}",
            "-" if row["contain_seconds"] is None else f"{row['contain_seconds']:.1f}",
            str(row["honest_accounts_frozen"]), str(row["honest_streams_touched"]),
            f"{row['requests_total']:,}", f"{row['wall_seconds']:.0f}",
            "met" if not missed else "MISSED: " + "; ".join(missed),
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print(f"goals: detect ≤ {DETECT_GOAL:g} s and contain ≤ {CONTAIN_GOAL:g} s after the attack "
          "starts, never before it; 0 honest accounts frozen")  # fmt: skip


SOAK_WATCH = """\
watch: 1
name: soak
signals:
  young_new_streams:
    listing: streams
    filters: {status: live, created_after: {ago: 30s}, account_created_after: {ago: 7d}}
    every: 1s
    baseline: 15m
  open_reports:
    listing: reports
    filters: {status: open, created_after: {ago: 1m}}
    every: 1s
rules:
  live-flood:
    when:
      - {signal: young_new_streams, above: 25}
      - {signal: young_new_streams, above_baseline: 10}
    for: 2s
"""


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


def soak(seconds: float) -> None:
    """``ircli watch`` for ``seconds`` over a quiet sandbox; its memory over time."""
    import statistics

    from ircli.sandbox import WorldConfig, run_server

    token = "soak-token"
    with (
        tempfile.TemporaryDirectory(prefix="ircli-watch-soak-") as folder,
        run_server(WorldConfig(seed=7, attack_start_seconds=3600.0), token=token) as server,
    ):
        watch = Path(folder) / "soak.yaml"
        watch.write_text(SOAK_WATCH, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("IRCLI_")}
        env.update(IRCLI_SANDBOX_URL=server.url, IRCLI_SANDBOX_TOKEN=token)
        store = str(Path(folder) / "soak.db")
        argv = [sys.executable, "-m", "ircli", "--json", "--db", store, "watch", str(watch),
                "--profile", "sandbox", "--duration", f"{seconds:g}s"]  # fmt: skip
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        samples: list[tuple[float, int]] = []
        began = time.monotonic()
        time.sleep(10)
        while process.poll() is None:
            samples.append((round(time.monotonic() - began, 1), rss_kib(process.pid)))
            time.sleep(10)
        summary = json.loads(process.communicate()[0])
    values = [kib for _t, kib in samples]
    result = {
        "command": "bench/watch.py " + " ".join(sys.argv[1:]),
        "seconds": seconds,
        "polls": summary["polls"],
        "failed_polls": summary["failed_polls"],
        "rss_kib_first": values[0],
        "rss_kib_median": int(statistics.median(values)),
        "rss_kib_last": values[-1],
        "rss_kib_max": max(values),
        "samples": samples,
    }
    print(
        f"watch for {seconds:g} s: {summary['polls']:,} polls ({summary['failed_polls']} failed);"
        f" resident memory first {values[0]:,} KiB, median {result['rss_kib_median']:,} KiB,"
        f" last {values[-1]:,} KiB, max {max(values):,} KiB"
    )
    out = RESULTS.with_name("watch-soak.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attack-start", type=float, default=30.0)
    parser.add_argument("--seeds", default="7,1,42")
    parser.add_argument("--no-faults", action="store_true", help="Skip the runs with faults.")
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="Measure a long watch.")
    args = parser.parse_args()
    if args.soak:
        soak(args.soak)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ircli-watch-bench-") as folder:
        for faults in (None,) if args.no_faults else (None, FAULTS):
            for seed in seeds:
                row = drill(seed, faults, args.attack_start, Path(folder))
                rows.append(row)
                print(f"seed {seed} faults {faults or 'none'}: detect {row['detect_seconds']} s, "
                      f"contain {row['contain_seconds']} s", file=sys.stderr)  # fmt: skip
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "bench/watch.py " + " ".join(sys.argv[1:]),
                "attack_start_seconds": args.attack_start,
                "goals": {"detect_seconds": DETECT_GOAL, "contain_seconds": CONTAIN_GOAL},
                "drills": [{**row, "missed": goals(row)} for row in rows],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    if any(goals(row) for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
