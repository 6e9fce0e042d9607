"""Incidents: lifecycle, milestones, backfilling, and rebuilding from the chain."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import InvalidInput
from ircli.incident.model import replay
from ircli.incident.service import IncidentService
from tests.conftest import START, CliRunner, FixedClock


@pytest.fixture
def service(store: AuditStore) -> IncidentService:
    return IncidentService(store, new_id=lambda now: f"INC-{now:%Y%m%d}-TEST")


def test_open_stamps_impact_and_detection(service: IncidentService) -> None:
    incident = service.open(
        "Bot flood", severity="p1", commander="dana", started_at=START - timedelta(minutes=9)
    )
    assert incident.id == "INC-20261128-TEST"
    assert (incident.severity, incident.status, incident.commander) == ("P1", "detected", "dana")
    assert incident.milestones == {
        "impact_started": "2026-11-28T21:51:00.000000Z",
        "detected": "2026-11-28T22:00:00.000000Z",
    }
    assert incident.metrics()["time_to_detect_seconds"] == 540.0


def test_lifecycle_stamps_milestones_and_metrics(
    service: IncidentService, clock: FixedClock
) -> None:
    incident = service.open("Flood", severity="P0", started_at=START - timedelta(minutes=5))
    clock.advance(60)
    service.set_status(incident.id, "acknowledged")
    clock.advance(600)
    service.set_status(incident.id, "mitigating")
    service.set_status(incident.id, "mitigated")
    clock.advance(3000)
    final = service.set_status(incident.id, "resolved")
    assert final.metrics() == {
        "time_to_detect_seconds": 300.0,
        "time_to_acknowledge_seconds": 360.0,
        "time_to_mitigate_seconds": 960.0,
        "time_to_resolve_seconds": 3960.0,
    }
    assert [e.kind for e in final.timeline] == ["detection", "status", "status", "status", "status"]


def test_backfilled_times_are_kept_in_order(service: IncidentService, clock: FixedClock) -> None:
    incident = service.open("Flood", severity="P1")
    clock.advance(3600)
    acknowledged = service.set_status(incident.id, "acknowledged", at=START + timedelta(minutes=4))
    assert acknowledged.milestones["acknowledged"] == "2026-11-28T22:04:00.000000Z"
    with pytest.raises(InvalidInput, match="would come before detected"):
        service.set_status(incident.id, "mitigated", at=START - timedelta(minutes=1))
    with pytest.raises(InvalidInput, match="is in the future"):
        service.set_status(incident.id, "mitigated", at=START + timedelta(hours=2))


def test_transitions(service: IncidentService) -> None:
    incident = service.open("Flood", severity="P1")
    service.set_status(incident.id, "mitigated")
    assert service.set_status(incident.id, "mitigating").status == "mitigating"
    with pytest.raises(InvalidInput, match="cannot move an incident from mitigating back to"):
        service.set_status(incident.id, "acknowledged")
    service.set_status(incident.id, "closed")
    with pytest.raises(InvalidInput, match="the incident is closed"):
        service.set_status(incident.id, "resolved")
    with pytest.raises(InvalidInput, match="unknown status 'done'"):
        service.set_status(incident.id, "done")


def test_notes_and_state_rebuilt_from_chain_alone(
    service: IncidentService, store: AuditStore
) -> None:
    incident = service.open("Flood", severity="P2")
    service.add_note(incident.id, "Reports spike", kind="detection", at=START)
    service.set_status(incident.id, "investigating")
    with pytest.raises(InvalidInput, match="unknown note kind 'gossip'"):
        service.add_note(incident.id, "x", kind="gossip")
    rebuilt = replay(store.records(RecordFilter()))[incident.id]
    assert rebuilt == service.get(incident.id)
    assert [(e.kind, e.message) for e in rebuilt.timeline] == [
        ("detection", "Incident opened (P2): Flood"),
        ("detection", "Reports spike"),
        ("status", "Status changed from detected to investigating"),
    ]


def test_cli_flow(cli: CliRunner, clock: FixedClock) -> None:
    opened = cli("--json", "incident", "open", "Live flood", "-s", "P1", "--commander", "dana")
    assert opened.exit_code == 0, opened.stderr
    incident_id = json.loads(opened.stdout)["id"]
    assert cli("timeline", "add", incident_id, "kill switch on", "--kind", "decision").stdout == (
        f"noted on {incident_id} (audit seq 2)\n"
    )
    clock.advance(120)
    moved = cli("incident", "status", incident_id, "mitigated")
    assert moved.stdout == f"{incident_id} is now mitigated\n"
    shown = json.loads(cli("--json", "incident", "show", incident_id).stdout)
    assert shown["metrics"]["time_to_mitigate_seconds"] == 120.0
    # No impact start: the time to detect is unknown, not 0 s.
    assert shown["metrics"]["time_to_detect_seconds"] is None
    timeline = json.loads(cli("--json", "timeline", "show", incident_id).stdout)
    assert [entry["message"] for entry in timeline] == [
        "Incident opened (P1): Live flood",
        "kill switch on",
        "Status changed from detected to mitigated",
    ]
    listed = json.loads(cli("--json", "incident", "list").stdout)
    assert [item["id"] for item in listed] == [incident_id]
    plain = cli("incident", "open", "Second", "-s", "P3")
    assert plain.stdout.startswith("INC-20261128-")


def test_hostile_text_is_inert_in_terminal_output(cli: CliRunner) -> None:
    title = "[bold red]pwn[/bold red] \x1b]0;owned\x07 \u202egnp.exe <script>x</script>"
    opened = cli("--json", "incident", "open", title, "-s", "P1")
    incident_id = json.loads(opened.stdout)["id"]
    assert "\x1b" not in opened.stdout
    assert "\u202e" not in opened.stdout
    shown = cli("incident", "show", incident_id)
    assert shown.exit_code == 0
    assert "\x1b" not in shown.stdout
    assert "\x07" not in shown.stdout
    assert "\u202e" not in shown.stdout
    assert "\\x1b]0;owned\\x07" in shown.stdout
    assert "[bold red]pwn[/bold red]" in shown.stdout  # shown literally, not interpreted
    assert "\\u202e" in shown.stdout
