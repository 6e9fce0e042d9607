"""Planning a run: everything checked before a request, each target once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import GuardRefused
from ircli.executor import service
from ircli.redaction import Redactor

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
