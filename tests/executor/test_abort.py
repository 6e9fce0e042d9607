"""An execution that is aborted (cancelled) leaves a finish record readers do not trust."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.executor import service
from ircli.executor.history import RunListing, list_run_summaries
from ircli.executor.journal import load_run
from ircli.redaction import Redactor
from tests.executor.conftest import TOKEN, Platform, account_ids


def test_an_aborted_run_is_listed_from_its_records(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    env = {"IRCLI_SANDBOX_URL": platform.url, "IRCLI_SANDBOX_TOKEN": TOKEN}
    workspace = service.Workspace(
        store=store, env=env, cwd=tmp_path, user_config_dir=tmp_path, redactor=Redactor()
    )
    loaded = service.load_platform(workspace, "sandbox")
    plan = service.plan_action(
        workspace, loaded, action_name="accounts.freeze", targets=account_ids(3000),
        params={}, max_targets=3000, overrides={"rate": 500.0, "concurrency": 4},
    )  # fmt: skip

    async def abort_midway() -> None:
        task = asyncio.create_task(service.run_plan(workspace, plan))
        outcomes = RecordFilter(kinds=("action.outcome",))
        for _ in range(200):  # until some outcomes are in the store (at most 10 s)
            await asyncio.sleep(0.05)
            if any(True for _ in store.records(outcomes)):
                break
        task.cancel()  # what a second Ctrl-C does to the run
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(abort_midway())
    [finished] = store.records(RecordFilter(kinds=("run.finished",)))
    assert finished.outcome["status"] == "failed"
    assert "counts" not in finished.outcome  # nothing it could vouch for
    [listing] = list_run_summaries(store)
    assert listing == RunListing.of(load_run(store, listing.run))
    assert 0 < listing.counts["done"] < 3000
    assert sum(listing.counts.values()) == 3000
