"""Switches that expire: ``flags set --for``, a step's ``for:``, and ``ircli runs due`` setting
them back — against the real sandbox over loopback, with the clock injected (the CLI runs
in-process, so moving the clock past an expiry takes no waiting)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ircli.audit.records import AuditRecord, RecordFilter
from ircli.audit.store import AuditStore, open_store
from ircli.executor import reverts
from ircli.executor.reverts import due_reverts, expiry_lease, revert_due
from ircli.executor.service import Workspace
from ircli.redaction import Redactor
from tests.cli.test_json_names import problems
from tests.conftest import CliResult, CliRunner, FixedClock
from tests.executor.conftest import TOKEN, Platform
from tests.playbook.test_expiring_steps import EXPIRING

HOUR = 3600.0
FLAG = "/api/v1/flags/live_streaming"

Ircli = Callable[..., CliResult]


@pytest.fixture
def ircli(cli: CliRunner, platform: Platform) -> Ircli:
    """The CLI in-process against the loopback sandbox (``IRCLI_SANDBOX_URL`` overridable)."""
    env = {"IRCLI_PROFILE": "sandbox", "IRCLI_SANDBOX_URL": platform.url,
           "IRCLI_SANDBOX_TOKEN": TOKEN}  # fmt: skip

    def invoke(*argv: str, **more: str) -> CliResult:
        return cli(*argv, env={**env, **more})

    return invoke


def as_json(result: CliResult) -> Any:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def flag(platform: Platform, name: str = "live_streaming") -> tuple[bool, int]:
    found = platform.get(f"/api/v1/flags/{name}")
    return found["enabled"], found["rollout_percent"]


def set_flag(platform: Platform, enabled: bool, rollout: int) -> None:
    body = {"enabled": enabled, "rollout_percent": rollout}
    platform.control.put(FLAG, json=body).raise_for_status()


def change(ircli: Ircli, *options: str) -> dict[str, Any]:
    """``flags set live_streaming OPTIONS --yes``, its JSON summary."""
    result = ircli("--json", "flags", "set", "live_streaming", *options, "--yes")
    assert result.exit_code == 0, result.stderr
    return dict(as_json(result))


def sent(platform: Platform) -> int:
    """Requests the sandbox's API has received so far."""
    return int(platform.score()["requests_total"])


def due(ircli: Ircli, *argv: str, **env: str) -> tuple[CliResult, dict[str, Any]]:
    result = ircli("--json", "runs", "due", *argv, **env)
    return result, as_json(result)


def revert_runs(store: AuditStore) -> list[dict[str, Any]]:
    return [
        record.params
        for record in store.records(RecordFilter(kinds=("run.started",)))
        if (record.params.get("selection") or {}).get("source") == "expiry"
    ]


def test_an_expired_flag_is_set_back_once_to_exactly_what_it_was(
    ircli: Ircli, platform: Platform, clock: FixedClock, store: AuditStore
) -> None:
    set_flag(platform, True, 40)  # not the sandbox's default: what was there is restored
    changed = change(ircli, "--off", "--for", "2h")
    assert changed["status"] == "completed"
    assert changed["expires_at"] == "2026-11-29T00:00:00.000000Z"  # 22:00 + 2h
    assert flag(platform) == (False, 40)
    run = changed["run"]
    [started] = store.records(RecordFilter(run=run, kinds=("run.started",)))
    assert started.params["expiry"] == {
        "expires_at": "2026-11-29T00:00:00.000000Z",
        "expires_after_seconds": 7200,
        "revert_action": "flags.set",
        "revert_params": {"live_streaming": {"enabled": True, "rollout_percent": 40}},
        "revert_source": "listing",
        "inherited_from": {},
    }
    shown = as_json(ircli("--json", "runs", "show", run))
    assert shown["expiry"]["status"] == "pending"
    assert shown["expiry"]["expires_at"] == "2026-11-29T00:00:00.000000Z"

    # Not due yet: nothing is sent, nothing recorded.
    clock.advance(2 * HOUR - 1)
    before, head = sent(platform), store.head()
    result, data = due(ircli)
    assert result.exit_code == 0, result.stderr
    assert data["expiries"] == []
    assert (sent(platform), store.head()) == (before, head)

    # Due: the dry run lists it and sends nothing.
    clock.advance(1)
    result, data = due(ircli, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert [(e["run"], e["target"], e["status"]) for e in data["expiries"]] == [
        (run, "live_streaming", "due")
    ]
    assert data["dry_run"] is True
    assert (sent(platform), store.head()) == (before, head)
    assert flag(platform) == (False, 40)

    result, data = due(ircli)
    assert result.exit_code == 0, result.stderr
    [reverted] = data["expiries"]
    assert reverted["status"] == "reverted"
    assert data["counts"]["reverted"] == 1
    assert problems(data) == []
    assert flag(platform) == (True, 40)
    revert = as_json(ircli("--json", "runs", "show", reverted["revert_run"]))
    assert revert["reason"] == f"expiry of {run}"
    assert revert["automated"] is True
    assert revert["reverts"] == run
    assert revert["params"] == {"enabled": True, "rollout_percent": 40}
    shown = as_json(ircli("--json", "runs", "show", run))
    assert (shown["expiry"]["status"], shown["expiry"]["reverted_by"]) == (
        "reverted",
        reverted["revert_run"],
    )
    listed = {s["run"]: s for s in as_json(ircli("--json", "runs", "list"))}
    assert listed[run]["expiry"]["status"] == "reverted"
    assert listed[reverted["revert_run"]]["expiry"] is None
    text = ircli("runs", "list").stdout
    assert "expires" in text
    assert "reverted" in text

    # Idempotent: a second call finds nothing to do.
    before, head = sent(platform), store.head()
    result, data = due(ircli)
    assert (result.exit_code, data["expiries"]) == (0, [])
    assert (sent(platform), store.head()) == (before, head)
    assert ircli("runs", "due").stdout.startswith("nothing due at 2026-11-29T00:00:00")
    assert len(revert_runs(store)) == 1
    assert ircli("audit", "verify").exit_code == 0


def test_given_values_are_set_back_instead_of_the_state_read(
    ircli: Ircli, platform: Platform, clock: FixedClock
) -> None:
    change(ircli, "--off", "--for", "30m", "--revert-on", "--revert-rollout", "5")
    clock.advance(HOUR)
    result, data = due(ircli)
    assert [e["status"] for e in data["expiries"]] == ["reverted"], result.stderr
    assert flag(platform) == (True, 5)


def test_a_later_change_of_the_flag_supersedes_the_expiry(
    ircli: Ircli, platform: Platform, clock: FixedClock, store: AuditStore
) -> None:
    first = change(ircli, "--off", "--for", "1h")
    clock.advance(600)
    later = change(ircli, "--on", "--rollout", "30")
    shown = as_json(ircli("--json", "runs", "show", first["run"]))
    assert (shown["expiry"]["status"], shown["expiry"]["superseded_by"]) == (
        "superseded",
        later["run"],
    )
    clock.advance(HOUR)
    before = sent(platform)
    result, data = due(ircli)
    assert result.exit_code == 0, result.stderr
    assert [(e["status"], e["superseded_by"]) for e in data["expiries"]] == [
        ("superseded", later["run"])
    ]
    assert sent(platform) == before  # the operator's later change stands
    assert flag(platform) == (True, 30)
    [record] = store.records(RecordFilter(kinds=("expiry.superseded",)))
    assert (record.run, record.target) == (first["run"], "live_streaming")
    assert record.params["automated"] is True
    # Reported once.
    result, data = due(ircli)
    assert (result.exit_code, data["expiries"]) == (0, [])


def test_extending_an_expiry_restores_what_was_there_before_the_first(
    ircli: Ircli, platform: Platform, clock: FixedClock
) -> None:
    set_flag(platform, True, 80)
    first = change(ircli, "--off", "--for", "1h")
    clock.advance(1800)
    # Still off, for longer: the state read now (off) is not what to restore.
    second = change(ircli, "--off", "--for", "2h")
    shown = as_json(ircli("--json", "runs", "show", second["run"]))
    [target] = shown["expiry"]["targets"]
    assert target["revert_params"] == {"enabled": True, "rollout_percent": 80}
    clock.advance(HOUR)  # the first is due, and superseded by the second: the flag stays off
    result, data = due(ircli)
    assert [(e["run"], e["status"]) for e in data["expiries"]] == [(first["run"], "superseded")]
    assert flag(platform) == (False, 80)
    clock.advance(HOUR)
    result, data = due(ircli)
    assert [(e["run"], e["status"]) for e in data["expiries"]] == [(second["run"], "reverted")], (
        result.stderr
    )
    assert flag(platform) == (True, 80)


def test_a_failing_platform_fails_the_command_and_the_expiry_stays_due(
    ircli: Ircli, platform: Platform, clock: FixedClock, store: AuditStore
) -> None:
    changed = change(ircli, "--off", "--for", "1h")
    clock.advance(HOUR)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result, data = due(ircli, IRCLI_SANDBOX_URL=down)
    assert result.exit_code == 1
    assert f"cannot reach {down}/api/v1/flags" in result.stderr
    assert f"could not set back live_streaming (expiry of {changed['run']})" in result.stderr
    assert [(e["status"], e["revert_run"]) for e in data["expiries"]] == [("failed", None)]
    assert flag(platform) == (False, 100)
    # Tried again next time, and set back once the platform answers.
    result, data = due(ircli)
    assert [e["status"] for e in data["expiries"]] == ["reverted"], result.stderr
    assert flag(platform) == (True, 100)


def test_an_unreadable_state_refuses_the_change(
    ircli: Ircli, platform: Platform, store: AuditStore
) -> None:
    before = sent(platform)
    result = ircli("flags", "set", "no_such_flag", "--off", "--for", "1h", "--yes")
    assert result.exit_code == 3
    assert (
        "error: flags.set on 'no_such_flag' cannot expire: the flags listing shows no "
        "'no_such_flag', so what to set back is unknown; nothing was sent." in result.stderr
    )
    [refused] = store.records(RecordFilter(kinds=("run.refused",)))
    assert refused.params["http_requests"]["action"] == 0
    assert sent(platform) - before == sum(refused.params["http_requests"].values())  # reads only


def test_a_change_that_changed_nothing_has_nothing_to_set_back(
    ircli: Ircli, platform: Platform, clock: FixedClock
) -> None:
    failed = ircli("flags", "set", "no_such_flag", "--off", "--for", "1h", "--revert-on", "--yes")
    assert failed.exit_code == 1  # the platform answers 404
    clock.advance(2 * HOUR)
    before = sent(platform)
    result, data = due(ircli)
    assert (result.exit_code, data["expiries"], sent(platform)) == (0, [], before)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--for", "2 hours"), "--for '2 hours': expected a duration such as 30m, 2h or 1d."),
        (("--for", "500ms"), "--for '500ms': an expiry is whole seconds, from 1 s to 366 days"),
        (("--revert-on",), "--revert-on, --revert-off and --revert-rollout go with --for"),
        (
            ("--for", "1h", "--revert-rollout", "100"),
            "the revert must set enabled too: the change sets it",
        ),
    ],
)
def test_bad_expiries_are_refused_before_anything_is_sent(
    ircli: Ircli, platform: Platform, argv: tuple[str, ...], message: str
) -> None:
    before = sent(platform)
    result = ircli("flags", "set", "live_streaming", "--off", *argv, "--yes")
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr
    assert sent(platform) == before


def test_a_dry_run_of_an_expiring_change_sends_nothing(ircli: Ircli, platform: Platform) -> None:
    before = sent(platform)
    result = ircli("flags", "set", "live_streaming", "--off", "--for", "2h", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "expires 2h 00m 00s after the change: then flags.set sets back what it is" in (
        result.stdout
    )
    assert sent(platform) == before


PLAYBOOK = (
    EXPIRING
    + """\
  - id: verify
    action: flags.set
    targets: [new_account_verification]
    params: {enabled: true, rollout_percent: 100}
    undo: {params: {enabled: false, rollout_percent: 3}}
    for: 1h
"""
)


def test_a_playbook_step_expires(
    ircli: Ircli, platform: Platform, clock: FixedClock, tmp_path: Path
) -> None:
    set_flag(platform, True, 60)
    path = tmp_path / "pause.yaml"
    path.write_text(PLAYBOOK)
    plan = ircli("run", str(path), "--dry-run")
    assert "set back 7,200 s after it runs" in plan.stdout, plan.stderr
    done = ircli("--json", "run", str(path), "--yes")
    assert done.exit_code == 0, done.stderr
    assert flag(platform) == (False, 60)
    assert flag(platform, "new_account_verification") == (True, 100)
    clock.advance(HOUR)
    result, data = due(ircli)
    assert [(e["target"], e["status"]) for e in data["expiries"]] == [
        ("new_account_verification", "reverted")
    ], result.stderr
    assert flag(platform, "new_account_verification") == (False, 3)  # the step's undo
    assert flag(platform) == (False, 60)  # not due yet
    clock.advance(HOUR)
    result, data = due(ircli)
    assert [(e["target"], e["status"]) for e in data["expiries"]] == [
        ("live_streaming", "reverted")
    ], result.stderr
    assert flag(platform) == (True, 60)  # what it was before the step


# -- two processes at once -------------------------------------------------------------------


def _workspace(store: AuditStore, platform: Platform, tmp_path: Path) -> Workspace:
    env = {"IRCLI_SANDBOX_URL": platform.url, "IRCLI_SANDBOX_TOKEN": TOKEN}
    return Workspace(store=store, env=env, cwd=tmp_path, user_config_dir=tmp_path / "config",
                     redactor=Redactor(), data_dir=tmp_path / "data")  # fmt: skip


def test_an_expiry_held_elsewhere_is_left_to_its_holder(
    ircli: Ircli, platform: Platform, clock: FixedClock, store: AuditStore
) -> None:
    change(ircli, "--off", "--for", "1h")
    clock.advance(HOUR)
    [expiry] = due_reverts(store, clock())
    before = sent(platform)
    with store.leases.hold(expiry_lease(expiry), clock()):
        result, data = due(ircli)
    assert result.exit_code == 0, result.stderr
    assert [e["status"] for e in data["expiries"]] == ["busy"]
    assert "live_streaming (expiry of" in result.stderr
    assert "is being settled by" in result.stderr
    assert sent(platform) == before
    result, data = due(ircli)
    assert [e["status"] for e in data["expiries"]] == ["reverted"]


def test_two_at_once_set_it_back_once(
    ircli: Ircli, platform: Platform, clock: FixedClock, db: str, tmp_path: Path
) -> None:
    change(ircli, "--off", "--for", "1h")
    clock.advance(HOUR)
    start = threading.Barrier(2)

    def settle() -> list[str]:
        with open_store(db, operator="cron", clock=clock) as own:
            workspace = _workspace(own, platform, tmp_path)
            start.wait(timeout=30)
            return [r.status for r in asyncio.run(revert_due(workspace, clock()))]

    outcomes: list[list[str]] = []
    threads = [threading.Thread(target=lambda: outcomes.append(settle())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == 2
    statuses = sorted(status for outcome in outcomes for status in outcome)
    assert statuses in (["reverted"], ["busy", "reverted"])
    with open_store(db, operator="check", clock=clock) as own:
        assert len(revert_runs(own)) == 1
    assert flag(platform) == (True, 100)


def test_one_settled_meanwhile_is_read_again_under_the_lease(
    ircli: Ircli,
    platform: Platform,
    clock: FixedClock,
    store: AuditStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another process reverts it between this one's listing of what is due and its lease.
    change(ircli, "--off", "--for", "1h")
    clock.advance(HOUR)
    stale = due_reverts(store, clock())
    assert due(ircli)[1]["counts"]["reverted"] == 1
    monkeypatch.setattr(reverts, "due_reverts", lambda *_args, **_kwargs: stale)
    before = sent(platform)
    assert asyncio.run(revert_due(_workspace(store, platform, tmp_path), clock())) == []
    assert sent(platform) == before
    assert len(revert_runs(store)) == 1


def test_a_revert_the_platform_refuses_fails_and_stays_due(
    ircli: Ircli, platform: Platform, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "bad-undo.yaml"
    path.write_text(
        PLAYBOOK.split("  - id: verify")[0].replace(
            "for: 2h", "for: 1h\n    undo: {params: {enabled: true, rollout_percent: 150}}"
        )
    )
    assert ircli("run", str(path), "--yes").exit_code == 0
    clock.advance(HOUR)
    for _attempt in range(2):  # refused each time, and tried again each time
        result, data = due(ircli)
        assert result.exit_code == 1
        [failed] = data["expiries"]
        assert failed["status"] == "failed"
        assert failed["revert_run"] is not None
        assert f"did not set it back at {platform.url}: HTTP 4" in failed["error"]
        assert "error: could not set back live_streaming (expiry of" in result.stderr
    assert flag(platform) == (False, 100)


def test_the_revert_is_on_the_incident_of_the_change(
    ircli: Ircli, platform: Platform, clock: FixedClock
) -> None:
    incident = as_json(ircli("--json", "incident", "open", "Flood", "-s", "P1"))["id"]
    changed = change(ircli, "--off", "--for", "1h", "--incident", incident)
    clock.advance(HOUR)
    [reverted] = due(ircli)[1]["expiries"]
    assert reverted["incident"] == incident
    timeline = as_json(ircli("--json", "timeline", "show", incident))
    messages = [entry["message"] for entry in timeline]
    assert f"{reverted['revert_run']}: flags.set: 1 of 1 targets done" in messages
    report = ircli("report", incident, "--format", "md")
    assert report.exit_code == 0, report.stderr
    assert f"targets chosen by the expiry of {changed['run']} \\(set back by ircli\\)" in (
        report.stdout
    )


def test_a_kept_scan_reads_only_new_runs_and_agrees_with_a_fresh_read(
    ircli: Ircli, platform: Platform, clock: FixedClock, store: AuditStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    taken: list[int] = []  # the run.started records the store handed over, per read
    kept_reads: list[int] = []
    fresh_reads: list[int] = []
    records = store.records

    def counting(where: RecordFilter | None = None) -> Iterator[AuditRecord]:
        for record in records(where):
            if where is not None and where.kinds == ("run.started",):
                taken.append(1)
            yield record

    monkeypatch.setattr(store, "records", counting)
    scan = reverts.ExpiryScan()

    def read(scan: reverts.ExpiryScan | None, reads: list[int]) -> list[dict[str, Any]]:
        taken.clear()
        found = [e.as_json() for e in reverts.expiries(store, clock(), scan)]
        reads.append(sum(taken))
        return found

    def agrees() -> list[tuple[str, str]]:
        kept = read(scan, kept_reads)
        assert kept == read(None, fresh_reads)
        return [(e["run"], e["status"]) for e in kept]

    assert agrees() == []
    first = change(ircli, "--off", "--for", "1h")["run"]
    assert agrees() == [(first, "pending")]
    change(ircli, "--on", "--rollout", "20")  # no expiry: it supersedes the first
    second = change(ircli, "--off", "--for", "30m")["run"]
    assert [status for _run, status in agrees()] == ["superseded", "pending"]
    clock.advance(HOUR)
    result, data = due(ircli)
    assert [e["status"] for e in data["expiries"]] == ["superseded", "reverted"], result.stderr
    assert agrees() == [(first, "superseded"), (second, "reverted")]
    assert agrees() == [(first, "superseded"), (second, "reverted")]

    # The kept scan takes each run.started once (the revert run last); a fresh read takes
    # them all again.
    assert kept_reads == [0, 1, 2, 1, 0]
    assert fresh_reads == [0, 1, 3, 4, 4]
    # The database hands over only runs that expire or change a flag: a run of another
    # action is never taken in.
    suspended = ircli("streams", "suspend", "--id", "st_none", "--yes")
    assert suspended.exit_code in (0, 1), suspended.stderr
    [other] = store.records(RecordFilter(kinds=("run.started",), newest_first=True, limit=1))
    assert other.params["action"] == "streams.suspend"
    assert read(scan, kept_reads) == read(None, fresh_reads)
    assert (kept_reads[-1], fresh_reads[-1]) == (0, 4)
