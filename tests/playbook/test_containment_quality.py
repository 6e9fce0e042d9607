"""The shipped containment playbook, run whole by the real runner, meets the drill's criteria.

A small live-flood world is served on loopback with the real clock, so the bots keep starting
new streams (20 a second) while the playbook runs, exactly as in a drill; the score and the
ground truth are read afterwards from the sandbox's admin endpoints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.store import AuditStore, open_store
from ircli.clock import system_clock
from ircli.executor.service import Workspace
from ircli.playbook.catalog import shipped_playbooks_dir
from ircli.playbook.loader import load_playbook
from ircli.playbook.runner import PlaybookOutcome, run_playbook
from ircli.redaction import Redactor
from ircli.sandbox import RunningServer, WorldConfig, run_server
from tests.playbook.queries import sandbox_profile
from tests.redacted import assert_nothing_redacted

PLAYBOOK = shipped_playbooks_dir() / "live-flood-containment.yaml"
TOKEN = "containment-quality-token"
WORLD = WorldConfig(
    seed=7,
    honest_accounts=20_000,
    honest_streams=3_000,
    bot_accounts=1_700,
    compromised_accounts=40,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD, token=TOKEN) as running:
        yield running


def _admin(sandbox: RunningServer, path: str) -> dict[str, Any]:
    response = httpx.get(
        sandbox.url + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    response.raise_for_status()
    return dict(response.json())


def workspace_for(
    sandbox: RunningServer, store: AuditStore, tmp_path: Path, config_file: Path | None = None
) -> Workspace:
    """A workspace on ``store`` that drives ``sandbox`` (with ``config_file`` as ircli.yaml)."""
    return Workspace(
        store=store,
        env={"IRCLI_SANDBOX_URL": sandbox.url, "IRCLI_SANDBOX_TOKEN": TOKEN},
        cwd=tmp_path,
        user_config_dir=tmp_path / "config",
        redactor=Redactor([TOKEN]),
        config_file=config_file,
    )


def _run(sandbox: RunningServer, tmp_path: Path) -> PlaybookOutcome:
    store = open_store(str(tmp_path / "audit.db"), operator="tester", clock=system_clock)
    workspace = workspace_for(sandbox, store, tmp_path)
    playbook = load_playbook(PLAYBOOK, profile=sandbox_profile())
    try:
        outcome = asyncio.run(
            run_playbook(workspace, playbook, inputs={}, profile_ref="sandbox", incident=None)
        )
        assert_nothing_redacted(store)  # the token is the only secret, and it is not stored
    finally:
        store.close()
    return outcome


@pytest.mark.slow
def test_the_containment_playbook_meets_the_drill_criteria(
    sandbox: RunningServer, tmp_path: Path
) -> None:
    truth_before = _admin(sandbox, "/_sandbox/truth")

    outcome = _run(sandbox, tmp_path)

    score = _admin(sandbox, "/_sandbox/score")
    assert outcome.status == "completed", outcome.reason
    steps = {step.id: step for step in outcome.steps}
    assert steps["contained"].status == "done", steps["contained"].summary
    assert steps["kill_switch"].status == "skipped"
    # This world has bots that only their restart after a suspension gives away.
    assert steps["restarted_1"].targets > 0
    # The drill's default criteria.
    assert score["malicious_live_streams"] == 0
    assert score["collateral_accounts"] == 0
    assert score["compromised_accounts_reset"] == score["compromised_accounts"] == 40
    assert score["duplicate_effects"] == 0
    # Few honest streams suspended, no honest password reset, no kill switch.
    assert score["collateral_streams"] <= 30
    assert score["collateral_password_resets"] == 0
    assert score["honest_streams_ended_by_kill_switch"] == 0
    assert score["kill_switch"] == {"enabled": True, "rollout_percent": 100}
    # Most bots are frozen on account signals; the rest cannot stream any more (verification
    # stops the young ones, the older ones were frozen when they restarted).
    assert score["malicious_accounts_frozen"] >= 0.95 * len(truth_before["bot_account_ids"])
    assert score["blocked_domains"] == {"malicious": 30, "other": 0}
    # ... and stays contained: nothing the attacker still controls may start a stream.
    time.sleep(1.5)
    assert _admin(sandbox, "/_sandbox/score")["malicious_live_streams"] == 0
