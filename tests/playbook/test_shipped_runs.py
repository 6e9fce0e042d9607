"""Each shipped playbook run through the real runner against the loopback sandbox.

(`live-flood-containment` is exercised by test_containment_quality.py and the drill tests.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ircli.audit.store import AuditStore, open_store
from ircli.executor.service import Workspace
from ircli.playbook.runner import PlaybookOutcome, open_playbook, run_playbook
from ircli.redaction import Redactor
from tests.executor.conftest import ROOT, TOKEN, Platform
from tests.redacted import assert_nothing_redacted


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    with open_store(str(tmp_path / "audit.db"), operator="tester") as opened:
        yield opened
        # No secret went into these runs, so redaction must have changed nothing (issue 14:
        # "accounts.reset_password: 400 of 400 done" was stored as "[REDACTED] of 400").
        assert_nothing_redacted(opened)


def run(
    platform: Platform, store: AuditStore, tmp_path: Path, name: str, **inputs: str
) -> PlaybookOutcome:
    workspace = Workspace(
        store=store,
        env={"IRCLI_SANDBOX_URL": platform.url, "IRCLI_SANDBOX_TOKEN": TOKEN},
        cwd=ROOT,
        user_config_dir=tmp_path,
        redactor=Redactor(),
    )
    playbook = open_playbook(workspace, name, None)
    return asyncio.run(
        run_playbook(workspace, playbook, inputs=inputs, profile_ref=None, incident=None)
    )


def statuses(outcome: PlaybookOutcome) -> dict[str, str]:
    return {step.id: step.status for step in outcome.steps}


def test_account_takeover_single(platform: Platform, store: AuditStore, tmp_path: Path) -> None:
    victim = platform.get("/_sandbox/truth")["compromised_account_ids"][0]
    outcome = run(platform, store, tmp_path, "account-takeover-single", account=victim)
    assert outcome.status == "completed", outcome.reason
    account: dict[str, Any] = platform.get(f"/api/v1/accounts/{victim}")
    assert account["password_reset_required"] is True
    assert account["status"] != "frozen"
    assert platform.score()["duplicate_effects"] == 0


def test_link_spam_domains(platform: Platform, store: AuditStore, tmp_path: Path) -> None:
    domains = [
        d["domain"] for d in platform.get("/api/v1/link-domains")["items"] if d["live_streams"] > 0
    ][:2]
    outcome = run(platform, store, tmp_path, "link-spam-domains", domains=",".join(domains))
    assert outcome.status == "completed", outcome.reason
    blocked = {d["domain"] for d in platform.get("/api/v1/link-domains/blocklist")["items"]}
    assert set(domains) <= blocked
    for domain in domains:
        live = platform.get(f"/api/v1/streams?status=live&link_domain={domain}&limit=5")
        assert live["items"] == []


def test_credential_stuffing_response(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    outcome = run(platform, store, tmp_path, "credential-stuffing-response")
    assert outcome.status == "completed", outcome.reason
    assert "big_blast_radius" in statuses(outcome)
    assert statuses(outcome)["big_blast_radius"] == "skipped"  # under the approval threshold
    assert platform.score()["compromised_accounts_reset"] > 0


def test_credential_stuffing_above_the_threshold_needs_approval(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    from ircli.errors import GuardRefused

    with pytest.raises(GuardRefused, match="needs 1 approval"):
        run(platform, store, tmp_path, "credential-stuffing-response", approval_above="0")
    assert platform.score()["compromised_accounts_password_reset"] == 0


def test_live_restore_rolls_back_when_bots_reappear(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    # Streams that look like bots are live in this world, so the first stage must fail its
    # watch and the rollback must put the kill switch back to 0 %.
    outcome = run(platform, store, tmp_path, "live-restore", observe="1s")
    assert outcome.status == "rolled_back", outcome.reason
    flag = platform.get("/api/v1/flags/live_streaming")
    assert flag["rollout_percent"] == 0
