"""``ircli report -f dsa``: EU DSA statements of reasons from real runs against the sandbox,
checked against the database's rules twice (ircli's validator and an independent schema)."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.platform.catalog import shipped_profiles_dir
from ircli.report.dsa import puid
from ircli.sandbox import RunningServer, WorldConfig, run_server
from tests.conftest import CliRunner, FixedClock
from tests.report.dsa_schema import SCHEMA, date_bounds_hold

TOKEN = "dsa-test-token"
WORLD = WorldConfig(
    seed=5,
    honest_accounts=400,
    honest_streams=60,
    bot_accounts=200,
    compromised_accounts=0,
    bot_rate=0.0,
    max_batch=100,
    max_page=1000,
)
GROUND = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
REASONS = (
    "--dsa-ground", GROUND,
    "--dsa-field", "incompatible_content_ground=Terms of service 4.2: no bot accounts.",
    "--dsa-field", "incompatible_content_explanation=Part of a coordinated bot flood.",
    "--dsa-facts", "Found by the containment playbook from account and stream signals.",
)  # fmt: skip
CONFIG = """\
dsa:
  category: STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE
  automated_detection: No
  territorial_scope: [DE, FR, "NO"]  # unquoted, YAML 1.1 reads Norway as false
"""
PLAYBOOK = """\
playbook: 1
name: freeze-two
profile: sandbox
dsa:
  category: STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT
  automated_detection: "Yes"
  decision_facts: The playbook's own facts (the command line's win).
steps:
  - id: freeze
    action: accounts.freeze
    targets: [acc_0000050, acc_0000051]
"""
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
FREEZE = {"decision_account": "DECISION_ACCOUNT_SUSPENDED", "content_type": ["CONTENT_TYPE_VIDEO"]}
"""The sandbox profile's accounts.freeze, as a run records it (``dsa_decision``)."""
SUSPEND = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
    "content_type": ["CONTENT_TYPE_VIDEO"],
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD, token=TOKEN) as running:
        yield running


@pytest.fixture
def env(sandbox: RunningServer) -> dict[str, str]:
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        c.post("/_sandbox/reset", json={"seed": WORLD.seed}).raise_for_status()
    return {
        "IRCLI_SANDBOX_URL": sandbox.url,
        "IRCLI_SANDBOX_TOKEN": TOKEN,
        "IRCLI_PROFILE": "sandbox",
    }


def ok(cli: CliRunner, env: dict[str, str], *argv: str, code: int = 0) -> Any:
    result = cli("--json", *argv, env=env)
    assert result.exit_code == code, result.stderr
    return json.loads(result.stdout)


def live_streams(env: dict[str, str], count: int) -> list[str]:
    with httpx.Client(
        base_url=env["IRCLI_SANDBOX_URL"], headers={"Authorization": f"Bearer {TOKEN}"}
    ) as c:
        items = c.get("/api/v1/streams", params={"status": "live", "limit": count}).json()
    return [item["id"] for item in items["items"]]


def statements(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def valid(statement: dict[str, Any]) -> bool:
    """Whether the independent schema and the date bounds accept ``statement``."""
    return VALIDATOR.is_valid(statement) and date_bounds_hold(statement)


def test_one_statement_per_decision_done_with_the_reasons_of_each_layer(
    cli: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "ircli.yaml").write_text(CONFIG)
    (tmp_path / "freeze-two.yaml").write_text(PLAYBOOK)
    incident = ok(cli, env, "incident", "open", "Flood", "-s", "P1")["id"]
    on = ("--incident", incident, "--yes")
    first = ok(cli, env, "accounts", "freeze", "--id", "acc_0000001", "--id", "acc_0000002", *on)
    again = ok(cli, env, "accounts", "freeze", "--id", "acc_0000001", "--id", "acc_0000003", *on)
    assert again["counts"]["already_done"] == 1
    [stream] = live_streams(env, 1)
    suspend = ok(cli, env, "streams", "suspend", "--id", stream, "--id", "str_9999999", *on, code=1)
    assert suspend["counts"]["failed"] == 1
    ok(cli, env, "accounts", "reset-password", "--id", "acc_0000004", *on)  # not a DSA decision
    playbook = ok(cli, env, "run", "freeze-two.yaml", *on)["run"]

    result = cli("report", incident, "-f", "dsa", *REASONS, env=env)

    assert result.exit_code == 0, result.stderr
    found = {s["puid"]: s for s in statements(result.stdout)}
    freeze, suspended = "accounts.freeze", "streams.suspend"
    assert set(found) == {
        puid(first["run"], freeze, "acc_0000001"),
        puid(first["run"], freeze, "acc_0000002"),
        puid(again["run"], freeze, "acc_0000003"),  # acc_0000001 was already frozen: none
        puid(suspend["run"], suspended, stream),  # str_9999999 failed: none
        puid(f"{playbook}.freeze", freeze, "acc_0000050"),
        puid(f"{playbook}.freeze", freeze, "acc_0000051"),
    }
    for statement in found.values():
        assert valid(statement), list(VALIDATOR.iter_errors(statement))
        # Each run here starts and ends on the fixed clock's day; the test of a target done the
        # day after its run started tells content_date and application_date apart.
        assert (statement["content_date"], statement["application_date"]) == ("2026-11-28",) * 2
        assert statement["decision_ground"] == GROUND
        assert statement["decision_facts"].startswith("Found by the containment playbook")
        assert statement["source_type"] == "SOURCE_VOLUNTARY"
        assert statement["territorial_scope"] == ["DE", "FR", "NO"]
        assert statement["content_type"] == ["CONTENT_TYPE_VIDEO"]
    by_puid = found.__getitem__
    adhoc = by_puid(puid(first["run"], freeze, "acc_0000001"))
    assert adhoc["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert "decision_visibility" not in adhoc
    assert adhoc["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert adhoc["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"  # ircli.yaml
    assert adhoc["automated_detection"] == "No"
    stopped = by_puid(puid(suspend["run"], suspended, stream))
    assert stopped["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert "decision_account" not in stopped
    stepped = by_puid(puid(f"{playbook}.freeze", freeze, "acc_0000050"))
    assert stepped["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert stepped["category"] == "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"
    assert stepped["automated_detection"] == "Yes"  # the playbook's, over ircli.yaml's

    # The same statements, byte for byte, on every export; a private file with -o.
    target = tmp_path / "statements.jsonl"
    written = cli("report", incident, "-f", "dsa", *REASONS, "-o", str(target), env=env)
    assert written.exit_code == 0, written.stderr
    assert target.read_text() == result.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_missing_reasons_are_named_and_nothing_is_written(
    cli: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    incident = ok(cli, env, "incident", "open", "Flood", "-s", "P1")["id"]
    run = ok(cli, env, "accounts", "freeze", "--id", "acc_0000001", "--incident", incident, "-y")
    target = tmp_path / "statements.jsonl"

    bare = cli("report", incident, "-f", "dsa", "-o", str(target), env=env)
    partial = cli("report", incident, "-f", "dsa", "--dsa-ground", GROUND, env=env)

    assert bare.exit_code == 2
    assert (
        f"error: cannot write DSA statements for {run['run']}: no decision_ground, category, "
        "decision_facts or automated_detection was given; nothing was written."
    ) in bare.stderr
    assert "Traceback" not in bare.stderr
    assert not target.exists()
    assert partial.exit_code == 2
    assert (
        "no category, decision_facts, automated_detection, incompatible_content_ground or "
        "incompatible_content_explanation was given"
    ) in partial.stderr
    assert partial.stdout == ""


def test_an_automated_trigger_is_fully_automated_and_hostile_text_stays_inert(
    cli: CliRunner, store: AuditStore
) -> None:
    incident = ok(cli, {}, "incident", "open", "Flood", "-s", "P1")["id"]
    hostile = ["acc\x1b[31m\u202eevil\nid", 'acc "quoted" \\ ', "acc_plain"]
    # Written by hand: no ircli command records automated: true yet. It is what an automatic
    # trigger (planned: ircli watch) will record for a run no person started.
    store.append(NewRecord("run.started", incident=incident, run="RUN-20261128-AUTO01", params={
        "action": "streams.suspend", "profile": "sandbox", "dsa_decision": SUSPEND,
        "automated": True, "targets": hostile,
    }))  # fmt: skip
    group = {"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 3, "error": None}
    store.append(NewRecord("action.outcome", incident=incident, run="RUN-20261128-AUTO01",
                           params={"action": "streams.suspend"},
                           outcome={"groups": [{**group, "targets": hostile}]}))  # fmt: skip
    facts = "\x1b]0;pwned\x07 Bot flood \u202e (api_key=s3cr3t-value-42)"

    result = cli(
        "report", incident, "-f", "dsa", *REASONS[:6], "--dsa-facts", facts,
        "--dsa-category", "STATEMENT_CATEGORY_VIOLENCE", "--dsa-field", "automated_detection=Yes",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert result.stdout.isascii()
    assert not any(char in result.stdout for char in ("\x1b", "\x07", "\u202e", "\r"))
    found = statements(result.stdout)
    assert [s["puid"] for s in found] == [
        puid("RUN-20261128-AUTO01", "streams.suspend", target) for target in hostile
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,500}", s["puid"]) for s in found)
    assert all(s["automated_decision"] == "AUTOMATED_DECISION_FULLY" for s in found)
    assert found[0]["decision_facts"].startswith("\x1b]0;pwned\x07 Bot flood \u202e")
    assert "s3cr3t-value-42" not in result.stdout  # the redactor's shapes apply
    assert all(valid(s) for s in found)


def outcome(store: AuditStore, incident: str, run: str, result: str, targets: list[str]) -> None:
    """One ``action.outcome`` record of ``run`` (accounts.freeze): ``targets`` ended ``result``."""
    group = {"outcome": result, "status": 200, "attempts": 1, "latency_ms": 3, "error": None}
    store.append(NewRecord("action.outcome", incident=incident, run=run,
                           params={"action": "accounts.freeze"},
                           outcome={"groups": [{**group, "targets": targets}]}))  # fmt: skip


WHY = (
    *REASONS, "--dsa-category", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "--dsa-field", "automated_detection=No",
)  # fmt: skip


def test_a_target_done_after_failing_in_the_same_run_has_one_statement_dated_when_done(
    cli: CliRunner, store: AuditStore, clock: FixedClock
) -> None:
    incident = ok(cli, {}, "incident", "open", "Flood", "-s", "P1")["id"]
    run, targets = "RUN-20261128-RETRY1", ["acc_1", "acc_2", "acc_3"]
    store.append(NewRecord("run.started", incident=incident, run=run, params={
        "action": "accounts.freeze", "profile": "sandbox", "dsa_decision": FREEZE,
        "targets": targets}))  # fmt: skip
    outcome(store, incident, run, "failed", targets)
    clock.advance(3 * 3600)  # 01:00 the next day (UTC): the run started the day before
    outcome(store, incident, run, "done", ["acc_2"])
    outcome(store, incident, run, "done", ["acc_1"])
    outcome(store, incident, run, "already_done", ["acc_3"])  # someone else's decision
    outcome(store, incident, run, "failed", ["acc_1"])  # the first success stays final

    result = cli("report", incident, "-f", "dsa", *WHY)

    assert result.exit_code == 0, result.stderr
    found = statements(result.stdout)
    assert [s["puid"] for s in found] == [
        puid(run, "accounts.freeze", "acc_2"),
        puid(run, "accounts.freeze", "acc_1"),
    ]
    assert {(s["content_date"], s["application_date"]) for s in found} == {
        ("2026-11-28", "2026-11-29")  # the run's start, the decision's day
    }


def test_a_step_run_is_found_by_the_playbook_run_it_names_and_a_rollback_is_none(
    cli: CliRunner, store: AuditStore, tmp_path: Path
) -> None:
    (tmp_path / "ircli.yaml").write_text(CONFIG)
    incident = ok(cli, {}, "incident", "open", "Flood", "-s", "P1")["id"]
    playbook = "RUN-20261128-PLAY01"
    store.append(NewRecord("run.started", incident=incident, run=playbook, params={
        "playbook": {"name": "freeze-two"},
        "dsa": {"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"}}))  # fmt: skip
    step = {"source": "playbook", "run": playbook, "step": "freeze"}
    runs = {
        f"{playbook}.freeze": {"selection": step},
        "RUN-20261128-LONGSTEP~0123456789ab": {"selection": step},  # not by its id
        f"{playbook}.rollback.1.accounts.freeze": {"selection": None},  # undoing an unfreeze
        f"{playbook}.before": {},  # recorded before runs recorded their selection
        f"{playbook}.rollback.2.accounts.freeze": {},
    }
    for run, selection in runs.items():
        store.append(NewRecord("run.started", incident=incident, run=run, params={
            "action": "accounts.freeze", "profile": "sandbox", "dsa_decision": FREEZE,
            "targets": ["acc_1"], **selection}))  # fmt: skip
        outcome(store, incident, run, "done", ["acc_1"])

    result = cli("report", incident, "-f", "dsa", *REASONS)

    assert result.exit_code == 0, result.stderr
    found = {s["puid"]: s for s in statements(result.stdout)}
    partial, playbooks = "AUTOMATED_DECISION_PARTIALLY", "STATEMENT_CATEGORY_PORNOGRAPHY_OR_"
    by_run = {
        run: (s["automated_decision"], s["category"].startswith(playbooks))
        for run in runs
        for s in [found[puid(run, "accounts.freeze", "acc_1")]]
    }
    assert by_run == {
        f"{playbook}.freeze": (partial, True),
        "RUN-20261128-LONGSTEP~0123456789ab": (partial, True),
        f"{playbook}.rollback.1.accounts.freeze": ("AUTOMATED_DECISION_NOT_AUTOMATED", False),
        f"{playbook}.before": (partial, True),
        f"{playbook}.rollback.2.accounts.freeze": ("AUTOMATED_DECISION_NOT_AUTOMATED", False),
    }


def test_a_run_keeps_the_mapping_it_used_whatever_becomes_of_its_profile(
    cli: CliRunner, env: dict[str, str], store: AuditStore, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text((shipped_profiles_dir() / "sandbox.yaml").read_text())
    incident = ok(cli, env, "incident", "open", "Flood", "-s", "P1")["id"]
    on = ("--incident", incident, "--yes", "--profile", "mine.yaml")  # relative to the cwd
    frozen = ok(cli, env, "accounts", "freeze", "--id", "acc_0000001", *on)["run"]
    reset = ok(cli, env, "accounts", "reset-password", "--id", "acc_0000002", *on)["run"]
    started = {r.run: r.params for r in store.records(RecordFilter(kinds=("run.started",)))}
    assert started[frozen]["dsa_decision"] == FREEZE
    assert started[reset]["dsa_decision"] is None  # not a DSA decision
    mine.write_text(
        mine.read_text().replace("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
    )

    edited = cli("report", incident, "-f", "dsa", *WHY, env=env)
    mine.unlink()
    gone = cli("report", incident, "-f", "dsa", *WHY, env=env, cwd=tmp_path / "config")

    assert edited.exit_code == 0, edited.stderr
    [statement] = statements(edited.stdout)
    assert statement["puid"] == puid(frozen, "accounts.freeze", "acc_0000001")
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"  # as the run used it
    assert gone.exit_code == 0, gone.stderr
    assert gone.stdout == edited.stdout


def test_an_older_run_reads_its_profile_only_while_it_is_unchanged(
    cli: CliRunner, store: AuditStore, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text((shipped_profiles_dir() / "sandbox.yaml").read_text())
    incident = ok(cli, {}, "incident", "open", "Flood", "-s", "P1")["id"]
    run = "RUN-20261128-OLDER1"
    # What runs recorded before they kept their dsa mapping: the profile and its SHA-256 only.
    store.append(NewRecord("run.started", incident=incident, run=run, params={
        "action": "accounts.freeze", "profile": str(mine), "targets": ["acc_1"],
        "profile_sha256": hashlib.sha256(mine.read_bytes()).hexdigest()}))  # fmt: skip
    outcome(store, incident, run, "done", ["acc_1"])

    unchanged = cli("report", incident, "-f", "dsa", *WHY)
    mine.write_text(
        mine.read_text().replace("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
    )
    changed = cli("report", incident, "-f", "dsa", *WHY)

    assert unchanged.exit_code == 0, unchanged.stderr
    assert statements(unchanged.stdout)[0]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert changed.exit_code == 2
    assert changed.stdout == ""
    assert re.search(
        rf"error: cannot write DSA statements for {run}: it recorded no dsa mapping of its own "
        rf"and its profile '{re.escape(str(mine))}' changed since it ran \(SHA-256 [0-9a-f]{{12}}… "
        r"then, [0-9a-f]{12}… now\); nothing was written.\n",
        changed.stderr,
    ), changed.stderr


def test_dsa_options_belong_to_the_dsa_format(cli: CliRunner, incident: str) -> None:
    result = cli("report", incident, "-f", "md", "--dsa-ground", GROUND)
    unknown = cli("report", incident, "-f", "dsa", "--dsa-field", "decison_facts=x")
    assert result.exit_code == 2
    assert "the --dsa-… options apply to --format dsa only." in result.stderr
    assert unknown.exit_code == 2
    assert "(did you mean 'decision_facts'?)" in unknown.stderr


def test_a_bad_dsa_block_in_the_config_file_is_located(
    cli: CliRunner, incident: str, tmp_path: Path
) -> None:
    (tmp_path / "ircli.yaml").write_text("dsa:\n  category: STATEMENT_CATEGORY_VIOLENT\n")
    result = cli("report", incident, "-f", "dsa")
    assert result.exit_code == 2
    assert f"{tmp_path / 'ircli.yaml'}:2:13: dsa -> category: unknown category " in result.stderr
    assert "(did you mean 'STATEMENT_CATEGORY_VIOLENCE'?)" in result.stderr
