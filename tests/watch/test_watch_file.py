"""Watch files: the shipped ones load; every bad one is refused with one located sentence."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ircli.errors import InvalidInput
from ircli.watch.catalog import shipped_watch_dir
from ircli.watch.loader import load_watch
from ircli.watch.model import Ago, watch_schema
from ircli.yamlfile import load_yaml_file
from tests.conftest import CliRunner
from tests.playbook.queries import ROOT, sandbox_profile

GOOD = """\
watch: 1
name: flood
profile: sandbox
signals:
  young:
    listing: streams
    filters: {status: live, created_after: {ago: 30s}, account_created_after: {ago: 7d}}
    every: 2s
  reports:
    listing: reports
    filters: {status: open}
rules:
  flood:
    description: Many new streams by young accounts.
    when:
      - {signal: young, above: 25}
      - {signal: young, above_baseline: 10}
    for: 4s
    respond:
      playbook: live-flood-containment
      inputs: {settle: 3s}
"""


def write(tmp_path: Path, text: str, name: str = "w.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_watch(write(tmp_path, text), profile=sandbox_profile(), webhooks={"oncall"})
    return caught.value.message.replace(str(tmp_path) + "/", "")


def test_the_good_watch_file_loads_with_its_playbook(tmp_path: Path) -> None:
    loaded = load_watch(write(tmp_path, GOOD), profile=sandbox_profile())
    spec = loaded.watch
    assert sorted(spec.signals) == ["reports", "young"]
    young = spec.signals["young"]
    assert young.every == 2.0
    assert young.baseline == 900.0
    assert isinstance(young.filters["created_after"], Ago)
    assert young.filters["created_after"].ago == 30.0
    assert young.filters["account_created_after"].ago == 7 * 86400.0
    rule = spec.rules["flood"]
    assert rule.hold == 4.0
    assert rule.respond is not None
    assert rule.respond.approval == "person"
    assert [c.describe() for c in rule.when] == ["young > 25", "young > 10× baseline"]
    assert loaded.playbooks["flood"].name == "live-flood-containment"


def test_every_shipped_watch_file_loads_and_matches_the_schema() -> None:
    files = sorted(shipped_watch_dir().glob("*.yaml"))
    assert [f.name for f in files] == ["live-flood.yaml"]
    schema = watch_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in files:
        loaded = load_watch(path, profile=sandbox_profile())
        assert loaded.playbooks, path
        jsonschema.validate(load_yaml_file(path).data, schema)


def test_the_schema_in_docs_is_current() -> None:
    written = json.loads((ROOT / "docs" / "watch.schema.json").read_text(encoding="utf-8"))
    assert written == watch_schema(), "run: make docs"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("watch: 1", "watch: 2", "w.yaml:1:8: watch: unsupported watch file format 2"),
        ("listing: streams", "listing: stream", "w.yaml:6:14: signals -> young -> listing: "),
        (
            "{status: live, created_after",
            "{state: live, created_after",
            "w.yaml:7:15: signals -> young -> filters -> state: the listing 'streams' has no "
            "filter 'state'",
        ),
        ("every: 2s", "every: 0.5s", "w.yaml:8:12: signals -> young -> every: "),
        (
            "{ago: 30s}",
            "{ago: soon}",
            "w.yaml:7:50: signals -> young -> filters -> created_after -> ago: expected a duration",
        ),
        (
            "{signal: young, above: 25}",
            "{signal: yung, above: 25}",
            "w.yaml:16:18: rules -> flood -> when -> 0 -> signal: no signal 'yung' "
            "(did you mean 'young'?)",
        ),
        (
            "{signal: young, above: 25}",
            "{signal: young, above: 25, below: 3}",
            "w.yaml:16:9: rules -> flood -> when -> 0: a condition gives exactly one of above, "
            "below, above_baseline, rate_above; this one gives above and below.",
        ),
        (
            "{signal: young, above: 25}",
            "{signal: young}",
            "w.yaml:16:9: rules -> flood -> when -> 0: a condition gives exactly one of",
        ),
        ("for: 4s", "for: soon", "w.yaml:18:10: rules -> flood -> for: "),
        (
            "playbook: live-flood-containment",
            "playbook: no-such-playbook",
            "w.yaml:20:17: rules -> flood -> respond -> playbook: playbook 'no-such-playbook': "
            "no playbook",
        ),
        (
            "inputs: {settle: 3s}",
            "inputs: {setle: 3s}",
            "w.yaml:20:17: rules -> flood -> respond -> playbook: playbook "
            "'live-flood-containment': ",
        ),
        (
            "inputs: {settle: 3s}",
            "approval: pre-approved",
            "w.yaml:20:7: rules -> flood -> respond: a pre-approved response needs guardrails",
        ),
        (
            "inputs: {settle: 3s}",
            "approval: automatic",
            "w.yaml:21:17: rules -> flood -> respond -> approval: unknown approval 'automatic'",
        ),
        ("for: 4s", "for: 4s\n    notify: [pager]", "w.yaml:19:14: rules -> flood -> notify -> 0"),
        ("    every: 2s\n", "    every: 2s\n    password: x\n", "a secret may not be written"),
    ],
)
def test_bad_watch_files_are_refused_where_they_are_wrong(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    message = refusal(tmp_path, GOOD.replace(old, new, 1))
    assert expected in message, message


def test_signals_that_would_poll_beyond_the_profile_rate_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("every: 2s", "every: 1s\n    max_items: 1000000")
    message = refusal(tmp_path, text)
    assert "w.yaml:5:3: signals: the signals may send" in message
    assert "requests a second, more than 10% of the profile's rate" in message


def test_a_pre_approved_response_needs_guardrails_and_a_playbook_without_gates(
    tmp_path: Path,
) -> None:
    guarded = GOOD.replace(
        "inputs: {settle: 3s}",
        "approval: pre-approved\n      guardrails: {max_targets_per_step: 100}",
    )
    loaded = load_watch(write(tmp_path, guarded), profile=sandbox_profile())
    respond = loaded.watch.rules["flood"].respond
    assert respond is not None
    assert respond.guardrails is not None
    assert respond.guardrails.max_targets_per_step == 100
    gated = write(
        tmp_path,
        "playbook: 1\nname: gated\napprovals: {count: 1}\nsteps:\n"
        "  - {id: hello, note: {message: hello}}\n",
        "gated.yaml",
    )
    text = guarded.replace("playbook: live-flood-containment", f"playbook: {gated.name}")
    message = refusal(tmp_path, text)
    assert "respond -> approval: the playbook 'gated' asks for 1 approval(s)" in message


def test_watch_check_through_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = cli("watch", str(path), "--check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{path}: ok: watch flood, 2 signal(s), 1 rule(s)\n"
    bad = write(tmp_path, GOOD.replace("above: 25", "above: lots"), "bad.yaml")
    result = cli("watch", str(bad), "--check")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:16:")
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.db")), "a check opens no audit store"
