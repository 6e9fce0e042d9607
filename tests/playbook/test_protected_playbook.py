"""Protected accounts in playbook runs: action steps hold them back (and the streams of
them that a query read), a canary and the step share one record of them, a dry run says so,
and no playbook can lift the protection — only a person, with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRunner
from tests.executor.conftest import Ircli, Platform

PLAYBOOK = """\
playbook: 1
name: protect-test
profile: sandbox
steps:
  - id: found
    query:
      listing: accounts
      filters: {{ip_cluster: {cluster}}}
  - id: freeze
    action: accounts.freeze
    targets: {{from: steps.found.ids}}
    canary: {{first: 1, check: "failure_ratio < 0.5"}}
  - id: watched
    query:
      listing: streams
      filters: {{status: live, min_viewers: "{viewers}"}}
  - id: suspend
    action: streams.suspend
    targets: {{from: steps.watched.ids}}
  - id: tally
    note: "froze ${{steps.freeze.succeeded}}, held back ${{steps.freeze.protected}}"
"""


def _items(platform: Platform, listing: str, **filters: str) -> list[dict[str, Any]]:
    response = platform.control.get(f"/api/v1/{listing}", params={**filters, "limit": 1000})
    response.raise_for_status()
    return list(response.json()["items"])


def _config(tmp_path: Path, ids: list[str]) -> dict[str, str]:
    home = tmp_path / "xdg"
    (home / "ircli").mkdir(parents=True, exist_ok=True)
    (home / "ircli" / "ircli.yaml").write_text(
        "protected:\n  accounts:\n    ids: [" + ", ".join(ids) + "]\n"
    )
    return {"XDG_CONFIG_HOME": str(home)}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("override_protected: true\n", "override_protected: unknown key."),
        ("protected: {accounts: {ids: []}}\n", "protected: unknown key."),
    ],
)
def test_no_playbook_can_lift_protection(
    cli: CliRunner, tmp_path: Path, text: str, where: str
) -> None:
    base = PLAYBOOK.format(cluster="ipc_0000001", viewers=10)
    for name, written in (
        ("top.yaml", base.replace("steps:\n", text + "steps:\n")),
        ("step.yaml", base.replace("    canary:", "    " + text + "    canary:")),
    ):
        path = tmp_path / name
        path.write_text(written)
        result = cli("playbook", "validate", str(path), "--profile", "sandbox")
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith(f"error: {path}:"), result.stderr
        assert where in result.stderr


def test_action_steps_hold_back_protected_accounts_and_their_streams(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    cluster = _items(platform, "accounts", min_ip_cluster_size="6")[0]["ip_cluster"]
    members = [item["id"] for item in _items(platform, "accounts", ip_cluster=cluster)]
    assert len(members) >= 6
    viewers = sorted(s["viewers"] for s in _items(platform, "streams", status="live"))[-6]
    watched = _items(platform, "streams", status="live", min_viewers=str(viewers))
    owner = watched[0]["account_id"]
    env = _config(tmp_path, [members[0], members[-1], owner])
    playbook = tmp_path / "protect.yaml"
    playbook.write_text(PLAYBOOK.format(cluster=cluster, viewers=viewers))

    planned = ircli.json("run", str(playbook), "--dry-run", **env)
    steps = {step["id"]: step for step in planned["steps"]}
    assert steps["freeze"]["targets"] == len(members) - 2
    assert "2 protected (not sent)" in steps["freeze"]["summary"]

    result = ircli("--json", "run", str(playbook), "--yes", **env)

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    steps = {step["id"]: step for step in outcome["steps"]}
    assert steps["freeze"]["summary"].endswith("2 protected (not sent)")
    statuses = {m: platform.get(f"/api/v1/accounts/{m}")["status"] for m in members}
    assert statuses == {
        m: "active" if m in (members[0], members[-1]) else "frozen" for m in members
    }
    held = [s["id"] for s in watched if s["account_id"] == owner]
    for stream in watched:
        status = platform.get(f"/api/v1/streams/{stream['id']}")["status"]
        assert (status == "live") == (stream["id"] in held), stream
    # The canary's run records the held-back accounts, once; the step's run sends the rest.
    canary = ircli.json("runs", "show", f"{outcome['run']}.freeze.canary", **env)
    rest = ircli.json("runs", "show", f"{outcome['run']}.freeze", **env)
    assert (canary["counts"]["protected"], canary["counts"]["done"]) == (2, 1)
    assert (rest["counts"]["protected"], rest["counts"]["done"]) == (0, len(members) - 3)
    assert canary["protection"]["ids"] == 3
    started = ircli.json("audit", "log", "--kind", "run.started", "--run", outcome["run"], **env)
    assert started[0]["params"]["protection"]["ids"] == 3
    notes = ircli.json("audit", "log", "--kind", "timeline.note", **env)
    assert notes[-1]["params"]["message"] == f"froze {len(members) - 2}, held back 2"


def test_only_a_person_lifts_it_for_a_playbook_run(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    cluster = platform.get("/api/v1/accounts/acc_0000010")["ip_cluster"]
    members = [item["id"] for item in _items(platform, "accounts", ip_cluster=cluster)]
    env = _config(tmp_path, [members[0]])
    playbook = tmp_path / "protect.yaml"
    playbook.write_text(PLAYBOOK.format(cluster=cluster, viewers=100_000))
    bare = ircli("run", str(playbook), "--yes", "--override-protected", **env)
    assert bare.returncode == 2
    assert "--override-protected needs --reason" in bare.stderr
    stray = ircli("run", str(playbook), "--yes", "--reason", "x", **env)
    assert stray.returncode == 2

    lifted = ircli(
        "--json", "run", str(playbook), "--yes", "--override-protected", "--reason", "drill",
        **env,
    )  # fmt: skip

    assert lifted.returncode == 0, lifted.stderr
    assert "--override-protected: this run may act on protected accounts" in lifted.stderr
    assert platform.get(f"/api/v1/accounts/{members[0]}")["status"] == "frozen"
    run = json.loads(lifted.stdout)["run"]
    started = ircli.json("audit", "log", "--kind", "run.started", "--run", run, **env)
    protection = started[0]["params"]["protection"]
    assert (protection["override_protected"], protection["operator"]) == (True, "tester")
