"""``ircli drill`` end to end: in-process sandbox, the real playbook runner, score, reports."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import CliRunner

WEAK = str(Path(__file__).with_name("weak-containment.yaml"))
SMALL = ("--accounts", "3000", "--streams", "400", "--bots", "300", "--compromised", "20")


def incidents(cli: CliRunner) -> list[dict[str, object]]:
    result = cli("--json", "incident", "list")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert isinstance(listed, list)
    return listed


def test_a_weak_playbook_fails_the_drill_and_shows_which_criteria(
    cli: CliRunner, tmp_path: Path
) -> None:
    result = cli("drill", WEAK, *SMALL, "--seed", "3", "--report-dir", "out")

    assert result.exit_code == 1, result.stderr
    out = result.stdout
    assert "✗ FAIL │ no malicious stream live" in out
    assert "✗ FAIL │ every compromised account secured" in out
    assert "✓ pass │ no honest account frozen" in out
    assert "✓ pass │ audit chain verifies" in out
    assert "drill FAILED: 3 of 5 criteria held" in out
    (incident,) = incidents(cli)
    assert incident["title"] == "Drill: live-flood (seed 3)"
    assert incident["severity"] == "P2"
    assert incident["status"] != "resolved"
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [f"{incident['id']}.{ext}" for ext in ("html", "json", "md")]
    for name in written:
        assert f"report: out/{name}" in out
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o600
    assert "audit anchor: " in out
    markdown = (tmp_path / "out" / f"{incident['id']}.md").read_text(encoding="utf-8")
    assert "This is a drill" in markdown
    assert "Drill FAILED: 3 of 5 criteria held" in markdown
    report = json.loads((tmp_path / "out" / f"{incident['id']}.json").read_text("utf-8"))
    # Every HTTP request ircli sent, counted by ircli, is what the sandbox received.
    assert report["http_requests"] == report["drill"]["score"]["requests_total"] > 0
    assert report["metrics"]["http_requests_unrecorded"] == []
    drill = report["drill"]
    assert drill["passed"] is False
    assert [c["passed"] for c in drill["criteria"]].count(True) == 3
    assert set(drill["collateral"]) == {
        "collateral_streams",
        "collateral_accounts",
        "collateral_password_resets",
        "honest_streams_ended_by_kill_switch",
    }
    assert "## Drill" in markdown
    assert "| no honest account frozen |" in markdown
    # The containment curve is the ground truth: malicious streams only.
    curve = report["charts"]["containment"]
    assert {point["source"] for point in curve} == {"truth"}
    assert curve[-1]["live"] == drill["score"]["malicious_live_streams"]
    # The sandbox's address and token went to the workspace, never to the process environment.
    assert "IRCLI_SANDBOX_URL" not in os.environ
    assert "IRCLI_SANDBOX_TOKEN" not in os.environ


def test_a_pass_expression_replaces_the_criteria_and_resolves_the_incident(
    cli: CliRunner, tmp_path: Path
) -> None:
    result = cli(
        "--json",
        "drill",
        WEAK,
        *SMALL,
        "--bot-rate",
        "0",
        "--pass",
        "malicious_streams_suspended > 0 and collateral_accounts == 0 and audit_ok",
        "--formats",
        "json,csv",
        "--report-dir",
        str(tmp_path / "r"),
    )

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["passed"] is True
    assert document["run_status"] == "completed"
    (criterion,) = document["criteria"]
    assert criterion["passed"] is True
    assert criterion["values"]["collateral_accounts"] == 0
    assert document["score"]["malicious_streams_suspended"] > 0
    assert document["audit"]["ok"] is True
    assert [Path(p).suffix for p in document["reports"]] == [".json", ".csv"]
    report = json.loads(Path(document["reports"][0]).read_text(encoding="utf-8"))
    assert report["audit"]["ok"] is True
    (incident,) = incidents(cli)
    assert incident["status"] == "resolved"


@pytest.mark.slow
def test_the_shipped_containment_playbook_passes_the_drill(cli: CliRunner, tmp_path: Path) -> None:
    # By name, as `make demo` runs it; the world is small but the bots keep restarting.
    result = cli(
        "drill", "live-flood-containment", *SMALL, "--formats", "md,json", "--report-dir", "out"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    for label in (
        "no malicious stream live",
        "no honest account frozen",
        "every compromised account secured",
        "no duplicate effects",
        "audit chain verifies",
    ):
        assert f"✓ pass │ {label}" in result.stdout
    assert "drill PASSED: 5 of 5 criteria held" in result.stdout
    (incident,) = incidents(cli)
    assert incident["status"] == "resolved"
    report = json.loads((tmp_path / "out" / f"{incident['id']}.json").read_text("utf-8"))
    # A playbook of queries, checks and batched actions: its HTTP requests, counted by ircli
    # per run and kind, add up to what the sandbox received.
    kinds = report["metrics"]["http_requests"]
    assert kinds["action"] > 0
    assert kinds["listing"] > 0
    assert report["http_requests"] == report["drill"]["score"]["requests_total"]
    assert report["metrics"]["target_attempts"] > kinds["action"]  # batches of many targets
    assert report["drill"]["passed"] is True
    assert report["charts"]["containment"][-1] == {
        "at": report["charts"]["containment"][-1]["at"],
        "live": 0,
        "source": "truth",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--pass", "malicious_live_streams = 0"),
            "error: --pass expression:1:1: invalid expression syntax at character 24.",
        ),
        (
            ("--pass", "malicous_live_streams == 0"),
            "error: --pass expression:1:1: unknown name 'malicous_live_streams' "
            "(did you mean 'malicious_live_streams'?).",
        ),
        (("--faults", "5xx=2"), "error: "),
        (("--faults", "bogus=1"), "error: "),
        (("--formats", "md,pdf"), "error: unknown report format 'pdf'"),
        (("--url", "http://127.0.0.1:9", "--faults", "5xx=0.1"), "error: --faults applies"),
        (("--accounts", "10", "--streams", "0", "--compromised", "9"), "error: compromised"),
    ],
)
def test_bad_options_exit_2_before_anything_happens(
    cli: CliRunner, db_path: Path, argv: tuple[str, ...], message: str
) -> None:
    result = cli("drill", WEAK, *argv)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    # Options checked before the playbook loads leave no store; the rest leave an empty one.
    assert not db_path.exists() or incidents(cli) == []


def test_an_unknown_playbook_exits_2(cli: CliRunner) -> None:
    result = cli("drill", "no-such-playbook")
    assert result.exit_code == 2
    assert "no playbook 'no-such-playbook'" in result.stderr


def test_url_uses_a_running_sandbox_with_the_token_from_the_environment(cli: CliRunner) -> None:
    from ircli.sandbox import WorldConfig, run_server

    world = WorldConfig(
        seed=5, honest_accounts=3000, honest_streams=400, bot_accounts=300, compromised_accounts=20
    )
    with run_server(world, token="drill-test-token") as server:
        result = cli(
            "drill", WEAK, "--url", server.url, "--formats", "md",
            env={"IRCLI_SANDBOX_TOKEN": "drill-test-token"},
        )  # fmt: skip
        assert result.exit_code == 1, result.stderr
        assert "✗ FAIL │ no malicious stream live" in result.stdout
        assert server.app.platform.mal_suspended > 0
        assert "drill-test-token" not in result.stdout + result.stderr
