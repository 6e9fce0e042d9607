"""The shipped containment playbook never freezes a protected account, even when its rules
select it; only a person's ``--override-protected`` lets it.

The live-flood world of ``test_containment_quality`` is served on loopback with the real
clock. Bots the playbook's rules select are declared protected in ``ircli.yaml``: the
accounts of one emulator farm by a listing filter (``device_cluster``), and one bot of a
datacenter pool by id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.store import open_store
from ircli.clock import system_clock
from ircli.incident.service import IncidentService
from ircli.playbook.catalog import shipped_playbooks_dir
from ircli.playbook.loader import load_playbook
from ircli.playbook.runner import PlaybookOutcome, run_playbook
from ircli.report.build import build_report
from ircli.report.model import Report
from ircli.sandbox import RunningServer
from tests.playbook.queries import sandbox_profile
from tests.playbook.test_containment_quality import TOKEN, WORLD, sandbox, workspace_for

__all__ = ["sandbox"]  # the module's own loopback sandbox of the containment world

PLAYBOOK = shipped_playbooks_dir() / "live-flood-containment.yaml"


@dataclass
class Admin:
    """The sandbox's API as a test reads it (not through ircli)."""

    client: httpx.Client

    def get(self, path: str, **query: str) -> Any:
        response = self.client.get(path, params=query)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def admin(sandbox: RunningServer) -> Iterator[Admin]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=sandbox.url, headers=headers, timeout=30) as client:
        client.post("/_sandbox/reset", json={"seed": WORLD.seed}).raise_for_status()
        yield Admin(client)


@dataclass
class Protected:
    """The bots declared protected: a farm's accounts and a pool bot."""

    farm: str
    farm_bots: list[str]
    pool_bot: str

    @property
    def accounts(self) -> list[str]:
        return [*self.farm_bots, self.pool_bot]


def _protect_selected_bots(admin: Admin, config: Path) -> Protected:
    """Protect bots the playbook selects (bot_accounts, pool_bots), taken from the ground
    truth, in ``config``."""
    bots = set(admin.get("/_sandbox/truth")["bot_account_ids"])
    on_farms = admin.get("/api/v1/accounts", min_device_cluster_size="28", limit="1000")
    farm = next(a["device_cluster"] for a in on_farms["items"] if a["id"] in bots)
    farm_bots = [
        a["id"]
        for a in admin.get("/api/v1/accounts", device_cluster=farm, limit="1000")["items"]
        if a["id"] in bots
    ]
    pooled = admin.get("/api/v1/accounts", min_ip_cluster_size="50", limit="1000")["items"]
    pool_bot = next(
        a["id"]
        for a in pooled
        if a["id"] in bots and a["ip_cluster_size"] < 160 and a["device_cluster_size"] < 28
    )
    config.write_text(
        "protected:\n  accounts:\n"
        f"    ids: [{pool_bot}]\n"
        f"    listings:\n      - {{listing: accounts, filters: {{device_cluster: {farm}}}}}\n"
    )
    return Protected(farm, farm_bots, pool_bot)


def _run(
    sandbox: RunningServer, tmp_path: Path, config: Path, override: str | None = None
) -> tuple[PlaybookOutcome, Report]:
    store = open_store(str(tmp_path / "audit.db"), operator="tester", clock=system_clock)
    workspace = workspace_for(sandbox, store, tmp_path, config)
    playbook = load_playbook(PLAYBOOK, profile=sandbox_profile())
    try:
        incident = IncidentService(store).open("Live flood", severity="P1").id
        outcome = asyncio.run(
            run_playbook(
                workspace, playbook, inputs={}, profile_ref="sandbox", incident=incident,
                override_protected=override,
            )
        )  # fmt: skip
        report = build_report(store, incident, now=system_clock())
    finally:
        store.close()
    return outcome, report


def _status(admin: Admin, account: str) -> str:
    return str(admin.get(f"/api/v1/accounts/{account}")["status"])


@pytest.mark.slow
def test_the_containment_never_freezes_a_protected_account(
    sandbox: RunningServer, admin: Admin, tmp_path: Path
) -> None:
    protected = _protect_selected_bots(admin, tmp_path / "ircli.yaml")
    assert len(protected.farm_bots) >= 10  # a farm holds ~50 accounts

    outcome, report = _run(sandbox, tmp_path, tmp_path / "ircli.yaml")

    assert outcome.status == "completed", outcome.reason
    assert {account: _status(admin, account) for account in protected.accounts} == dict.fromkeys(
        protected.accounts, "active"
    )
    # The rules selected them, and the freezes held them back: counted and reported.
    freezes = {t.action: t for t in report.metrics.actions}["accounts.freeze"]
    assert freezes.outcomes["protected"] >= len(protected.accounts)
    assert report.metrics.protected >= len(protected.accounts)
    steps = {step.id: step for step in outcome.steps}
    assert "protected (not sent)" in steps["freeze_bots"].summary
    assert "protected (not sent)" in steps["freeze_pool_bots"].summary
    # Everything else was still contained: the other bots are frozen.
    score = admin.get("/_sandbox/score")
    assert score["collateral_accounts"] == 0
    assert score["malicious_accounts_frozen"] >= 0.9 * len(
        admin.get("/_sandbox/truth")["bot_account_ids"]
    )


@pytest.mark.slow
def test_a_person_overriding_protection_lets_the_containment_freeze_them(
    sandbox: RunningServer, admin: Admin, tmp_path: Path
) -> None:
    protected = _protect_selected_bots(admin, tmp_path / "ircli.yaml")

    outcome, report = _run(
        sandbox, tmp_path, tmp_path / "ircli.yaml", override="drill: protected bots too"
    )

    assert outcome.status == "completed", outcome.reason
    assert {account: _status(admin, account) for account in protected.accounts} == dict.fromkeys(
        protected.accounts, "frozen"
    )
    assert report.metrics.protected == 0
