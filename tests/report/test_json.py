"""JSON: the whole report as data, with a schema version and a stable key order."""

from __future__ import annotations

import json

from ircli.report import SCHEMA_VERSION, Report, render_json
from tests.report.snapshots import assert_snapshot


def test_json_snapshot(report: Report) -> None:
    assert_snapshot("report.json", render_json(report))


def test_json_document_shape(report: Report) -> None:
    text = render_json(report)
    assert text.isascii()
    data = json.loads(text)
    assert list(data) == [
        "schema_version",
        "generated_at",
        "incident",
        "http_requests",
        "metrics",
        "timeline",
        "runs",
        "approvals",
        "charts",
        "audit",
        "drill",
    ]
    # Every HTTP request the runs recorded (the --where selection's listing pages too).
    assert data["http_requests"] == 8 + 2 + 7
    assert data["metrics"]["http_requests"] == {"action": 11, "check": 1, "listing": 3, "probe": 2}
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["generated_at"] == "2026-11-29T09:00:00.000000Z"
    assert data["audit"]["ok"] is True
    assert (
        data["audit"]["summary"]
        == f"{data['audit']['total']}/{data['audit']['total']} records valid"
    )
    runs = {run["run"]: run for run in data["runs"]}
    assert runs["R-streams"]["plan_hash"] == "ef" * 32
    assert runs["R-streams"]["playbook"]["sha256"] == "cd" * 32
    assert data["approvals"][0]["approver"] == "bob"
