"""The current incident (``incident use``, ``IRCLI_INCIDENT``) and the warning when a run
would miss an open incident; ``store info``. Real processes against the loopback sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.executor.conftest import Ircli, Platform


@pytest.fixture
def responder(tmp_path: Path, platform: Platform) -> Ircli:
    # Its own data directory: 'incident use' writes there, never in the real user's.
    return Ircli(tmp_path / "audit.db", platform.url, {"XDG_DATA_HOME": str(tmp_path / "data")})


def _open(ircli: Ircli, title: str) -> str:
    opened = ircli("incident", "open", title, "-s", "P1")
    assert opened.returncode == 0, opened.stderr
    return opened.stdout.strip()


def _runs_on(ircli: Ircli, incident: str) -> list[dict[str, Any]]:
    listed = ircli.json("runs", "list")
    return [run for run in listed if run["incident"] == incident]


def test_incident_use_puts_actions_and_notes_on_it(responder: Ircli) -> None:
    first = _open(responder, "Flood")
    second = _open(responder, "Second wave")
    used = responder("incident", "use", first)
    assert (used.returncode, used.stdout) == (0, f"current incident: {first} (incident use)\n")

    freeze = responder("accounts", "freeze", "--id", "acc_0000001", "--yes", "--reason", "bot")
    assert freeze.returncode == 0, freeze.stderr
    assert f"on incident {first} (incident use)" in freeze.stderr
    assert "warning" not in freeze.stderr
    note = responder("timeline", "add", "froze the first bot", "--kind", "action")
    assert note.returncode == 0, note.stderr
    assert note.stdout.startswith(f"noted on {first} ")

    # IRCLI_INCIDENT overrides 'incident use'; --incident overrides both.
    by_env = responder("accounts", "freeze", "--id", "acc_0000002", "--yes",
                       IRCLI_INCIDENT=second)  # fmt: skip
    assert f"on incident {second} (from IRCLI_INCIDENT)" in by_env.stderr
    by_flag = responder("accounts", "freeze", "--id", "acc_0000003", "--yes",
                        "--incident", second, IRCLI_INCIDENT=first)  # fmt: skip
    assert by_flag.returncode == 0, by_flag.stderr

    assert len(_runs_on(responder, first)) == 1
    assert len(_runs_on(responder, second)) == 2
    timeline = responder.json("timeline", "show", first)
    assert "froze the first bot" in [e["message"] for e in timeline]

    info = responder.json("store", "info")
    assert info["current_incident"] == first
    assert info["head"] == "{seq}:{hash}".format(**responder.json("audit", "head"))

    cleared = responder("incident", "use", "--clear")
    assert cleared.stdout == "no current incident\n"
    orphan = responder("timeline", "add", "nowhere to go")
    assert orphan.returncode == 2
    assert "name the incident" in orphan.stderr


def test_the_choice_belongs_to_one_store(responder: Ircli, tmp_path: Path) -> None:
    incident = _open(responder, "Flood")
    assert responder("incident", "use", incident).returncode == 0
    other = Ircli(tmp_path / "other.db", responder.url, responder.extra_env)
    _open(other, "Elsewhere")
    shown = other("incident", "use")
    assert shown.stdout == "no current incident\n"
    data = json.loads(tmp_path.joinpath("data/ircli/current-incident.json").read_text())
    assert data == {"stores": {f"sqlite:///{responder.db}": incident}}
    assert tmp_path.joinpath("data/ircli/current-incident.json").stat().st_mode & 0o777 == 0o600


def test_an_open_incident_left_out_of_a_run_gets_a_warning(responder: Ircli) -> None:
    incident = _open(responder, "Flood")
    run = responder("streams", "suspend", "--id", "str_0000001", "--yes")
    assert run.returncode == 0, run.stderr
    assert (
        f"warning: incident {incident} is open, but this run is on no incident and will be "
        "missing from its report" in run.stderr.replace("\n", " ")
    )
    assert _runs_on(responder, incident) == []

    assert responder("incident", "status", incident, "resolved").returncode == 0
    quiet = responder("streams", "suspend", "--id", "str_0000002", "--yes")
    assert quiet.returncode == 0, quiet.stderr
    assert "warning" not in quiet.stderr


def test_an_unknown_or_empty_current_incident_is_refused_before_any_request(
    responder: Ircli, platform: Platform
) -> None:
    _open(responder, "Flood")
    before = platform.score()["requests_total"]
    unknown = responder("accounts", "freeze", "--id", "acc_0000001", "--yes",
                        IRCLI_INCIDENT="INC-20261128-NOPE")  # fmt: skip
    assert unknown.returncode == 2
    assert "no incident 'INC-20261128-NOPE' in the audit store" in unknown.stderr
    empty = responder("accounts", "freeze", "--id", "acc_0000001", "--yes", IRCLI_INCIDENT=" ")
    assert empty.returncode == 2
    assert "IRCLI_INCIDENT is set but empty" in empty.stderr
    assert platform.score()["requests_total"] == before
