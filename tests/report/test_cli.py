"""``ircli report``: formats on stdout, private files with -o, errors, terminal safety."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ircli.report import SCHEMA_VERSION
from tests.conftest import CliRunner

UNSAFE = ("\x1b", "\u202e", "\x07")


@pytest.mark.parametrize("fmt", ["md", "html", "json", "csv", "timesketch", "targets.csv"])
def test_every_format_on_stdout_is_inert_and_anchored(
    cli: CliRunner, incident: str, fmt: str
) -> None:
    result = cli("report", incident, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout
    assert not any(char in result.stdout for char in UNSAFE)
    if fmt in ("md", "html"):
        assert "records valid" in result.stdout.splitlines()[-1] or "</html>" in result.stdout
    if fmt == "json":
        assert json.loads(result.stdout)["audit"]["summary"].endswith("records valid")


def test_output_file_is_private(cli: CliRunner, incident: str, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = cli("report", incident, "-f", "html", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_default_format_is_markdown(cli: CliRunner, incident: str) -> None:
    result = cli("report", incident)
    assert result.stdout.startswith("# Post-incident report: Live flood \\<script\\>")


def test_unknown_format_and_incident_are_invalid_input(cli: CliRunner, incident: str) -> None:
    bad_format = cli("report", incident, "--format", "pdf")
    assert bad_format.exit_code == 2
    assert (
        "unknown report format 'pdf'; expected one of md, html, json, csv, timesketch, "
        "targets.csv, dsa." in bad_format.stderr
    )
    missing = cli("report", "INC-NOPE")
    assert missing.exit_code == 2
    assert "no incident 'INC-NOPE' in the audit store." in missing.stderr


def test_json_mode_prints_the_json_report(cli: CliRunner, incident: str) -> None:
    result = cli("--json", "report", incident)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["incident"]["id"] == incident
    assert document["schema_version"] == SCHEMA_VERSION
    clash = cli("--json", "report", incident, "--format", "html")
    assert clash.exit_code == 2
    assert "--json prints the JSON report; drop --json to write html." in clash.stderr
    assert clash.stdout == ""
