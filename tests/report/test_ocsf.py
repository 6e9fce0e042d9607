"""OCSF export: every event carries the attributes its class requires in OCSF 1.x.

Required attributes and constraints, from the ocsf/ocsf-schema repository (events/base_event.json,
events/iam/account_change.json, events/application/api_activity.json,
events/findings/incident_finding.json, objects/metadata.json, product.json, user.json,
actor.json, api.json, network_endpoint.json, finding_info.json):
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ircli.audit.ocsf import to_ocsf, to_ocsf_events
from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from tests.conftest import CliRunner

BASE_REQUIRED = {
    "activity_id",
    "category_uid",
    "class_uid",
    "metadata",
    "severity_id",
    "time",
    "type_uid",
}
CLASS_REQUIRED = {
    3001: {"user"},
    6003: {"actor", "api", "src_endpoint"},
    2005: {"finding_info_list", "status_id"},
}
CATEGORY = {3001: 3, 6003: 6, 2005: 2}
ACTIVITIES = {
    3001: {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99},
    6003: {0, 1, 2, 3, 4, 99},
    2005: {0, 1, 2, 3, 99},
}
SEVERITIES = {0, 1, 2, 3, 4, 5, 6, 99}
INCIDENT_STATUSES = {0, 1, 2, 3, 4, 5, 99}
AT_LEAST_ONE = {
    "user": {"account", "name", "uid"},
    "actor": {"process", "user", "invoked_by", "session", "app_name", "app_uid"},
    "src_endpoint": {
        "ip",
        "uid",
        "name",
        "hostname",
        "svc_name",
        "instance_uid",
        "interface_uid",
        "interface_name",
    },
}


def check_event(event: dict[str, Any]) -> None:
    klass = event["class_uid"]
    assert klass in CLASS_REQUIRED
    missing = (BASE_REQUIRED | CLASS_REQUIRED[klass]) - event.keys()
    assert not missing, (klass, missing)
    assert event["category_uid"] == CATEGORY[klass]
    assert event["activity_id"] in ACTIVITIES[klass]
    assert event["type_uid"] == klass * 100 + event["activity_id"]
    assert event["severity_id"] in SEVERITIES
    assert isinstance(event["time"], int)
    assert event["time"] > 1_700_000_000_000  # milliseconds
    metadata = event["metadata"]
    assert metadata["version"].startswith("1.")
    assert {"name", "vendor_name"} <= metadata["product"].keys()
    for name, one_of in AT_LEAST_ONE.items():
        if name in event:
            assert one_of & {k for k, v in event[name].items() if v not in (None, "")}, name
    if klass == 6003:
        assert event["api"]["operation"]
    if klass == 2005:
        assert event["status_id"] in INCIDENT_STATUSES
        assert all(info["uid"] for info in event["finding_info_list"])
        assert {"assignee", "assignee_group"} & event.keys()
    if "actor" in event and "user" in event["actor"]:
        assert AT_LEAST_ONE["user"] & event["actor"]["user"].keys()


def test_every_event_has_its_class_required_fields(store: AuditStore, incident: str) -> None:
    events = list(to_ocsf_events(store.records(RecordFilter(incident=incident))))
    for event in events:
        check_event(event)
    classes = Counter(event["class_uid"] for event in events)
    # 4 incident changes; 8 action results (5 streams, 2 freezes, 1 session revoke), of which
    # the 3 account results are also Account Changes.
    assert classes == {2005: 4, 6003: 8, 3001: 3}


def test_mapping_of_activities_and_statuses(store: AuditStore, incident: str) -> None:
    events = list(to_ocsf_events(store.records(RecordFilter(incident=incident))))
    incidents = [e for e in events if e["class_uid"] == 2005]
    assert [(e["activity_id"], e["status_id"], e["status_detail"]) for e in incidents] == [
        (1, 1, "detected"),
        (2, 2, "acknowledged"),
        (2, 2, "mitigated"),
        (2, 4, "resolved"),
    ]
    assert {e["severity_id"] for e in incidents} == {4}  # P1 → High
    assert incidents[0]["assignee"] == {"name": "dana"}
    changes = [
        (e["activity_id"], e["activity_name"], e["user"]["uid"], e["status_id"])
        for e in events
        if e["class_uid"] == 3001
    ]
    assert changes == [
        (5, "Disable", "a-1", 1),
        (5, "Disable", "a-2", 2),
        (99, "Revoke Sessions", "a-1", 1),
    ]
    failed = next(e for e in events if e["class_uid"] == 6003 and e["status_id"] == 2)
    assert failed["api"]["response"] == {"code": 403, "error": "forbidden <b>by</b> policy"}


def test_lines_are_ascii_json(store: AuditStore, incident: str) -> None:
    lines = list(to_ocsf(store.records()))
    assert all(line.endswith("\n") and line.isascii() for line in lines)
    for line in lines:
        check_event(json.loads(line))


def test_cli_export_ocsf(cli: CliRunner, store: AuditStore, incident: str) -> None:
    result = cli("audit", "export", "--format", "ocsf", "--incident", incident)
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 15
    for event in events:
        check_event(event)
    bad = cli("audit", "export", "--format", "cef")
    assert bad.exit_code == 2
    assert "expected jsonl, csv or ocsf" in bad.stderr
