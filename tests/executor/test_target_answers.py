""" "What did we do to account X?" after real runs against the sandbox: ``audit log --target``
(table and JSON) and ``report -f targets.csv`` agree with what the runs did."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.executor.conftest import Ircli, account_ids, write_ids

# Usable ids (no control characters) that name no account: the platform answers not_found.
MISSING = ["acc_'%_\"x", "acc_\u202eevil", '=HYPERLINK("http://evil")']


def test_every_intent_and_outcome_of_one_target(ircli: Ircli, tmp_path: Path) -> None:
    incident = ircli.json("incident", "open", "Bot flood", "-s", "P1")["id"]
    ids = write_ids(tmp_path / "ids.txt", [*account_ids(250), *MISSING])
    batch = ircli.json("accounts", "freeze", "--ids-file", str(ids), "--batch", "100",
                       "--incident", incident, "--yes")  # fmt: skip
    assert batch["counts"]["done"] == 250, batch
    assert batch["counts"]["failed"] == len(MISSING), batch
    again = ircli.json("accounts", "freeze", "--id", "acc_0000007", "--incident", incident,
                       "--yes")  # fmt: skip
    assert again["counts"]["already_done"] == 1, again

    entries = ircli.json("audit", "log", "--target", "acc_0000007")
    assert [(e["kind"], e["run"], e["outcome"], e["status"], e["attempts"])
            for e in entries] == [
        ("action.intent", batch["run"], None, None, None),
        ("action.outcome", batch["run"], "done", 200, 1),
        ("action.intent", again["run"], None, None, None),
        ("action.outcome", again["run"], "already_done", 200, 1),
    ]  # fmt: skip
    first = entries[0]  # an intent naming many targets (the producer's batches of 100)
    assert (first["batch"], first["incident"]) == (True, incident)
    assert first["targets_in_record"] >= 100
    assert [e["targets_in_record"] for e in entries[2:]] == [1, 1]
    assert all(e["recorded_at"].endswith("Z") and e["operator"] == "tester" for e in entries)
    assert isinstance(entries[1]["latency_seconds"], float)
    only = ircli.json("audit", "log", "--target", "acc_0000007", "--run", again["run"],
                      "--kind", "action.outcome")  # fmt: skip
    assert [e["seq"] for e in only] == [entries[3]["seq"]]

    table = ircli("audit", "log", "--target", "acc_0000007")
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("records concerning target 'acc_0000007'\n")
    cells = [[cell.strip() for cell in line.split("\u2502")[1:-1]]
             for line in table.stdout.splitlines() if " action." in line]  # fmt: skip
    # kind, run, action, outcome, status, attempts, targets in record, error
    assert [row[2:8] + row[9:] for row in cells] == [
        ["action.intent", batch["run"], "accounts.freeze", "", "", "",
         f"{first['targets_in_record']:,}", ""],
        ["action.outcome", batch["run"], "accounts.freeze", "done", "200", "1",
         f"{entries[1]['targets_in_record']:,}", ""],
        ["action.intent", again["run"], "accounts.freeze", "", "", "", "1", ""],
        ["action.outcome", again["run"], "accounts.freeze", "already_done", "200", "1", "1", ""],
    ]  # fmt: skip

    failures = {}
    for target in MISSING:
        [intent, outcome] = ircli.json("audit", "log", "--target", target)
        assert (intent["target"], outcome["target"], outcome["outcome"]) == (
            target, target, "failed"
        )  # fmt: skip
        failures[target] = (str(outcome["status"]), outcome["error"])
    shown = ircli("audit", "log", "--target", MISSING[1])
    assert "\u202e" not in shown.stdout + shown.stderr
    assert "acc_\\u202eevil" in shown.stdout
    assert ircli.json("audit", "log", "--target", "acc_%") == []
    assert ircli.json("audit", "log", "--target", "acc_000000_") == []

    report = ircli("report", incident, "-f", "targets.csv")
    assert report.returncode == 0, report.stderr
    rows = list(csv.DictReader(io.StringIO(report.stdout, newline="")))
    by_run = {run: [r for r in rows if r["run"] == run] for run in (batch["run"], again["run"])}
    assert len(rows) == 250 + len(MISSING) + 1
    assert [r["target"] for r in by_run[batch["run"]][:250]] == account_ids(250)
    assert {(r["outcome"], r["status"], r["attempts"]) for r in by_run[batch["run"]][:250]} \
        == {("done", "200", "1")}  # fmt: skip
    missing = by_run[batch["run"]][250:]
    assert [r["target"] for r in missing] == [MISSING[0], "acc_\\u202eevil", "'" + MISSING[2]]
    assert [(r["outcome"], r["status"], r["error"]) for r in missing] == [
        ("failed", *failures[target]) for target in MISSING
    ]
    [single] = by_run[again["run"]]
    assert (single["target"], single["outcome"], single["action"]) == (
        "acc_0000007", "already_done", "accounts.freeze"
    )  # fmt: skip
    assert all(r["operator"] == "tester" and r["incident"] == incident for r in rows)
    assert all(r["first_recorded_at"] <= r["last_recorded_at"] for r in rows)
    assert json.loads(ircli("--json", "audit", "verify").stdout)["target_index"]["ok"] is True
