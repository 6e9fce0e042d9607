"""``ircli drill --formats …,dsa``: the drill's DSA statements of reasons, one per decision."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.conftest import CliRunner
from tests.drill.test_drill_cli import SMALL, WEAK, incidents
from tests.report.dsa_schema import SCHEMA, date_bounds_hold

MAPPED = ("accounts.freeze", "streams.suspend")  # the sandbox profile's DSA decisions


def test_the_shipped_playbook_gives_a_statement_per_freeze_and_suspension(
    cli: CliRunner, tmp_path: Path
) -> None:
    result = cli("drill", "live-flood-containment", *SMALL, "--input", "settle=1s",
                 "--formats", "json,dsa", "--report-dir", "out")  # fmt: skip

    assert result.exit_code == 0, result.stderr
    (incident,) = incidents(cli)
    assert f"report: out/{incident['id']}.dsa.jsonl" in result.stdout
    lines = (tmp_path / "out" / f"{incident['id']}.dsa.jsonl").read_text().splitlines()
    report = json.loads((tmp_path / "out" / f"{incident['id']}.json").read_text())
    done = sum(t["outcomes"]["done"] for t in report["metrics"]["actions"] if t["action"] in MAPPED)
    assert len(lines) == done > 0
    found = [json.loads(line) for line in lines]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert all(validator.is_valid(s) and date_bounds_hold(s) for s in found)
    assert {s["automated_decision"] for s in found} == {"AUTOMATED_DECISION_PARTIALLY"}
    assert {s["category"] for s in found} == {
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"
    }
    assert len({s["puid"] for s in found}) == len(found)
    accounts = [s for s in found if "decision_account" in s]
    assert accounts
    assert len(accounts) == sum(
        t["outcomes"]["done"] for t in report["metrics"]["actions"] if t["action"] == MAPPED[0]
    )


def test_a_playbook_without_reasons_is_refused_before_the_drill(cli: CliRunner) -> None:
    result = cli("drill", WEAK, *SMALL, "--formats", "md,dsa")

    assert result.exit_code == 2
    assert (
        "--formats dsa: neither the playbook's dsa block nor ircli.yaml gives decision_ground, "
        "category, decision_facts, automated_detection; nothing was run."
    ) in result.stderr
    assert incidents(cli) == []
