"""The dry run reports, it does not refuse: every shipped playbook dry-runs against the
sandbox's default world (a live flood of 17,000 bots), steps that earlier steps change are
resolved at run time, caps today's state exceeds are warnings, and estimates are not empty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ircli.sandbox import RunningServer, WorldConfig, run_server

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "playbooks").glob("*.yaml"))
INPUTS = {
    "account-takeover-single": ["--input", "account=acc_0000001"],
    "link-spam-domains": ["--input", "domains=free-cams.xyz,hot-deal.buzz"],
}


@pytest.fixture(scope="module")
def flood() -> Iterator[RunningServer]:
    with run_server(WorldConfig(seed=7)) as running:  # the default world, as `sandbox serve`
        yield running


def dry_run(flood: RunningServer, tmp_path: Path, name: str, *extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IRCLI_", "XDG_"))}
    env |= {"HOME": str(tmp_path), "IRCLI_DB": str(tmp_path / "audit.db"),
            "IRCLI_SANDBOX_URL": flood.url}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "ircli", "--json", "run", name, "--dry-run",
         *INPUTS.get(name, []), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.mark.parametrize(
    # The containment playbook's dry run (a minute of reads) is the next test's: run once.
    "path",
    [path for path in SHIPPED if path.stem != "live-flood-containment"],
    ids=lambda p: p.stem,
)
def test_every_shipped_playbook_dry_runs_without_refusal(
    flood: RunningServer, tmp_path: Path, path: Path
) -> None:
    plan = dry_run(flood, tmp_path, path.stem)
    assert plan["status"] == "completed", plan["status_reason"]
    assert all(step["status"] != "failed" for step in plan["steps"])


def test_the_containment_dry_run_resolves_later_steps_at_run_time(
    flood: RunningServer, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    plan = dry_run(flood, tmp_path, "live-flood-containment", "--plan-out", str(out))
    assert plan["status"] == "completed", plan["status_reason"]
    assert all(step["status"] != "failed" for step in plan["steps"])
    steps = {step["id"]: step for step in plan["steps"]}
    # Accounts are read before anything acts: resolved now, pinned by the plan.
    assert not steps["bot_accounts"]["at_run_time"]
    assert not steps["freeze_bots"]["at_run_time"]
    # Streams are read after freezes that end streams: today's counts are upper bounds.
    for step in ("sweep_1", "suspend_1", "sweep_2", "suspend_2"):
        assert steps[step]["at_run_time"], step
        assert "resolved at run time" in steps[step]["summary"]
    over = steps["suspend_1"]
    assert over["targets"] > 10_000  # today's flood is over the step's cap …
    assert "over its max_targets of 10,000: refused at run time if still so" in over["summary"]
    # … which is a warning in a dry run, and every action step has an estimate.
    actions = [s for s in plan["steps"] if s["kind"] == "action" and s["status"] == "planned"]
    assert all(s["estimate_seconds"] and s["estimate_seconds"] > 0 for s in actions)
    # The saved plan pins only the steps resolved at plan time.
    pinned = {action["step"] for action in json.loads(out.read_text())["actions"]}
    assert "freeze_bots" in pinned
    assert pinned.isdisjoint({s["id"] for s in plan["steps"] if s["at_run_time"]})
