"""Planning a run: everything checked before a request, each target once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import GuardRefused
from ircli.executor import service
from ircli.platform.client import PlatformClient
from ircli.redaction import Redactor
from tests.executor.conftest import unsafe_reset_profile

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(store: AuditStore, tmp_path: Path) -> service.Workspace:
    return service.Workspace(
        store=store, env={}, cwd=tmp_path, user_config_dir=tmp_path, redactor=Redactor()
    )


def plan(workspace: service.Workspace, targets: list[str], cap: int = 10) -> service.ActionPlan:
    loaded = service.load_platform(workspace, str(ROOT / "profiles" / "sandbox.yaml"))
    return service.plan_action(
        workspace, loaded, action_name="accounts.freeze", targets=targets, params={},
        max_targets=cap,
    )  # fmt: skip


def test_a_target_named_twice_is_planned_once(workspace: service.Workspace) -> None:
    # A listing paged while the flood changes it can return an object twice.
    assert plan(workspace, ["a", "b", "a", "c", "b"]).targets == ("a", "b", "c")


def test_the_cap_counts_distinct_targets(workspace: service.Workspace) -> None:
    assert len(plan(workspace, ["a", "a", "a"], cap=1).targets) == 1
    with pytest.raises(GuardRefused, match="2 targets exceed the cap of 1; nothing was sent"):
        plan(workspace, ["a", "b", "a"], cap=1)
    refused = list(workspace.store.records(RecordFilter(kinds=("run.refused",))))
    assert len(refused) == 1


def test_a_target_left_unknown_is_counted_unknown(
    workspace: service.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A non-idempotent action times out and its check cannot be read: the target may have
    # been changed, so the run's counts must say unknown — not untouched.
    loaded = service.load_platform(workspace, str(unsafe_reset_profile(tmp_path)))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(503, json={})
        raise httpx.ReadTimeout("slow", request=request)

    def mocked(profile: Any, headers: Any, env: Any, concurrency: int, timeout: Any = None) -> Any:
        return PlatformClient(
            profile.base_url, headers=headers, timeout=1, connect_timeout=1,
            max_connections=concurrency, idempotency_header=profile.idempotency_header,
            transport=httpx.MockTransport(handler),
        )  # fmt: skip

    monkeypatch.setattr(service, "platform_client", mocked)
    action_plan = service.plan_action(
        workspace, loaded, action_name="accounts.reset_password", targets=["acc_1"], params={},
        max_targets=10,
    )  # fmt: skip
    outcome = asyncio.run(service.run_plan(workspace, action_plan))
    assert outcome.report.status == "incomplete"
    assert (outcome.state.counts()["unknown"], outcome.state.counts()["untouched"]) == (1, 0)
    assert outcome.counts == outcome.state.counts()
    [finished] = workspace.store.records(RecordFilter(kinds=("run.finished",)))
    assert finished.outcome["counts"]["unknown"] == 1
