"""Every command's ``--json`` output follows one naming convention (docs/cli.md, "Output
conventions"): times are ``at`` or ``*_at``, durations ``*_seconds``, rates ``*_per_second``,
counts plural nouns (no ``target_count``, no bare-integer ``requests``), and ``reason`` is the
operator's (why a run ended so is ``status_reason``).

Each command runs as its own process against the loopback sandbox and a fresh store; the
documents that mirror a file format (audit records, profiles, the sandbox score, user data such
as a run's parameters and filters) are left out where the docs say so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.executor.conftest import Ircli, Platform, ircli, platform, sandbox, write_ids

__all__ = ["ircli", "platform", "sandbox"]

_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_OLD_NAMES = frozenset(
    {"started", "finished", "recorded", "expires", "opened", "minute", "ts", "target_count"}
)
_COUNT_SUFFIX = "_count"  # counts are plural nouns (``attempts``), never ``attempt_count``
_TIME_MAPS = frozenset({"milestones"})  # milestone name → time
# Subtrees that are file formats or user data, per the docs.
_FOREIGN = (".score", ".parameters", ".selection.filters", ".params", ".values", ".sample")


def problems(value: Any, path: str = "") -> list[str]:
    """Every key of ``value`` that breaks the convention, as a path."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += problems(item, path + "[]")
        return found
    if not isinstance(value, dict):
        return found
    for key, item in value.items():
        where = f"{path}.{key}"
        if where.replace("[]", "").endswith(_FOREIGN):
            continue
        if key in _OLD_NAMES or key.endswith(("_s", "_ms", _COUNT_SUFFIX)):
            found.append(f"{where}: old-style name")
        if key.startswith("time_to_") and not key.endswith("_seconds"):
            found.append(f"{where}: a duration without _seconds")
        if key == "requests" and type(item) is int:
            found.append(f"{where}: a bare count that names no kind")
        is_time = isinstance(item, str) and _TIME.match(item) is not None
        if (
            is_time
            and key != "at"
            and not key.endswith("_at")
            and path.split(".")[-1] not in (_TIME_MAPS)
        ):
            found.append(f"{where}: a time not named at / *_at")
        found += problems(item, where)
    return found


def test_every_command_json_follows_the_naming_convention(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    outputs: dict[str, Any] = {}

    def run(*argv: str, **env: str) -> Any:
        document = ircli.json(*argv, **env)
        outputs[" ".join(argv)] = document
        return document

    incident = run(
        "incident", "open", "Bots", "--severity", "P1", "--started-at", "2026-11-28T21:51:00Z"
    )["id"]
    run("incident", "use", incident)
    run("incident", "status", incident, "acknowledged")
    run("timeline", "add", "Report queue at 40x", "--kind", "detection")
    ids = write_ids(tmp_path / "ids.txt", ["acc_0000001", "acc_0000002"])
    adhoc = run(
        "streams", "suspend", "--where", "status=live", "--where", "min_reports=40",
        "--reason", "bot flood", "--yes",
    )  # fmt: skip
    run("accounts", "freeze", "--ids-file", str(ids), "--reason", "bots", "--dry-run")
    expiring = run(
        "flags", "set", "live_streaming", "--off", "--for", "2h", "--reason", "stop it", "--yes"
    )  # fmt: skip
    plan = run("run", "credential-stuffing-response", "--dry-run")
    run("runs", "approve", plan["run"], IRCLI_OPERATOR="lee")
    playbook = run("run", "account-takeover-single", "--input", "account=acc_0000003", "--yes")
    for command in (
        ("incident", "show", incident),
        ("incident", "list"),
        ("timeline", "show", incident),
        ("runs", "list"),
        ("runs", "show", adhoc["run"]),
        ("runs", "show", playbook["run"]),
        ("runs", "show", expiring["run"]),
        ("runs", "due"),
        ("runs", "due", "--dry-run"),
        ("audit", "head"),
        ("audit", "verify"),
        ("audit", "log", "--target", "acc_0000003"),
        ("store", "info"),
        ("audit", "copy", "--to", str(tmp_path / "copy.db")),
        ("profile", "list"),
        ("profile", "validate", "sandbox"),
        ("playbook", "list"),
        ("watch", "live-flood", "--check"),
        ("watch", "live-flood", "--duration", "3s"),
        ("report", incident),
    ):
        run(*command)

    assert {name: problems(doc) for name, doc in outputs.items() if problems(doc)} == {}
    # The conventions hold where they matter most, not only by absence.
    assert outputs["incident show " + incident]["metrics"]["time_to_detect_seconds"] is not None
    assert adhoc["reason"] == "bot flood"
    assert set(adhoc["http_requests"]) == {"action", "check", "listing", "probe"}
    assert adhoc["elapsed_seconds"] >= 0
    assert all("started_at" in listed for listed in outputs["runs list"])
    assert outputs["runs show " + expiring["run"]]["expiry"]["expires_at"] == expiring["expires_at"]
    assert outputs["audit log --target acc_0000003"][0]["targets_in_record"] >= 1
    watched = outputs["watch live-flood --duration 3s"]
    assert watched["polls"] >= 1
    assert set(watched["http_requests"]) == {"action", "check", "listing", "probe"}
    report = outputs["report " + incident]
    assert report["http_requests"] == sum(report["metrics"]["http_requests"].values())


def test_the_checker_finds_each_kind_of_break() -> None:
    bad = {
        "started": "2026-11-28T22:00:00.000000Z",
        "elapsed_s": 1.5,
        "time_to_detect": 3.0,
        "requests": 4,
        "nested": [{"opened": "x", "when": "2026-11-28T22:00:00Z"}],
        "milestones": {"detected": "2026-11-28T22:00:00Z"},
        "params": {"ts": "2026-11-28T22:00:00Z"},
    }
    assert problems(bad) == [
        ".started: old-style name",
        ".started: a time not named at / *_at",
        ".elapsed_s: old-style name",
        ".time_to_detect: a duration without _seconds",
        ".requests: a bare count that names no kind",
        ".nested[].opened: old-style name",
        ".nested[].when: a time not named at / *_at",
    ]
