"""The error boundary: exact messages, documented exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.cli import run
from ircli.cli.environment import Environment
from ircli.errors import ExitCode
from tests.conftest import CliRunner


def test_unknown_incident_is_invalid_input(cli: CliRunner, db_path: Path) -> None:
    assert cli("incident", "open", "Flood", "-s", "P1").exit_code == 0
    result = cli("incident", "show", "INC-NOPE")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.startswith(
        f"error: no incident 'INC-NOPE' in the audit store sqlite:///{db_path}.\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    "argv",
    [
        ("incident", "list"),
        ("incident", "show", "INC-20261128-AAAA"),
        ("timeline", "show", "INC-20261128-AAAA"),
        ("runs", "list"),
        ("runs", "show", "RUN-20261128-AAAA"),
        ("audit", "verify"),
        ("audit", "head"),
        ("audit", "log"),
        ("report", "INC-20261128-AAAA"),
        ("store", "info"),
        ("incident", "use", "INC-20261128-AAAA"),
    ],
)
def test_reading_a_missing_store_exits_2_names_it_and_creates_nothing(
    cli: CliRunner, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    typo = tmp_path / "nonexistent" / "dir" / "x.db"
    result = cli("--db", str(typo), *argv)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stderr
    assert f"error: there is no audit store at {typo}; nothing was read.\n" in result.stderr
    assert "ircli store info" in result.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_a_database_without_ircli_tables_is_not_a_store_to_read(
    cli: CliRunner, tmp_path: Path
) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = cli("--db", str(other), "incident", "list")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"there is no audit store at sqlite:///{other}" in result.stderr
    tables = sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("t",)]  # nothing migrated into someone else's database


def test_bad_severity(cli: CliRunner) -> None:
    result = cli("incident", "open", "Flood", "--severity", "P9")
    assert result.exit_code == 2
    assert result.stderr == ("error: unknown severity 'P9'; expected one of P0, P1, P2, P3, P4.\n")


def test_bad_time(cli: CliRunner) -> None:
    result = cli("incident", "open", "Flood", "-s", "P1", "--started-at", "yesterday")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: invalid --started-at time 'yesterday': expected an ISO-8601 time such as "
        "2026-11-28T21:04:00Z.\n"
    )


def test_usage_error_exits_2(cli: CliRunner) -> None:
    result = cli("incident", "open")
    assert result.exit_code == 2
    assert "Missing argument 'TITLE'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_export_format(cli: CliRunner) -> None:
    result = cli("audit", "export", "--format", "xml")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: unknown export format 'xml'; expected jsonl, csv or ocsf.\n",
    )


def test_bad_anchor(cli: CliRunner) -> None:
    result = cli("audit", "verify", "--anchor", "12:nothex")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: invalid anchor '12:nothex': expected SEQ:HASH as printed by 'ircli audit head'.\n"
    )


def test_unwritable_store_location(cli: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli("--db", str(blocker / "sub" / "audit.db"), "incident", "open", "F", "-s", "P1")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot open the audit store sqlite:///")
    assert result.stderr.endswith("Not a directory.\n")


def test_damaged_store_is_an_integrity_failure(cli: CliRunner, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 200)
    result = cli("--db", str(damaged), "audit", "verify")
    assert result.exit_code == ExitCode.AUDIT_INTEGRITY
    assert result.stderr.startswith("error: the audit store sqlite:///")
    assert "is damaged: file is not a database." in result.stderr


def test_internal_errors_are_reported_without_traceback_unless_debug(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ircli.incident.service as service

    def explode(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    assert cli("incident", "open", "Flood", "-s", "P1").exit_code == 0
    monkeypatch.setattr(service.IncidentService, "list", explode)
    result = cli("incident", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: internal error (ZeroDivisionError); this is a bug in ircli.\n"
        "hint: Run again with --debug to see the traceback.\n"
    )
    debug = cli("--debug", "incident", "list")
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ZeroDivisionError: boom" in debug.stderr


def test_keyboard_interrupt_exits_130(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import ircli.incident.service as service

    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    assert cli("incident", "open", "Flood", "-s", "P1").exit_code == 0
    monkeypatch.setattr(service.IncidentService, "list", interrupt)
    result = cli("incident", "list")
    assert (result.exit_code, result.stderr) == (130, "error: interrupted.\n")


def test_default_environment_is_usable(tmp_path: Path) -> None:
    import io

    stdout = io.StringIO()
    code = run(["--version"], Environment(stdout=stdout, stderr=io.StringIO()))
    assert code == 0
    assert stdout.getvalue().startswith("ircli ")
