"""Resuming a crashed run of a non-idempotent action against the real sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ircli.audit.records import RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import GuardRefused
from ircli.executor import service
from ircli.executor.journal import RunJournal, RunSpec, load_run
from ircli.redaction import Redactor
from tests.executor.conftest import ROOT, TOKEN, Platform, account_ids, unsafe_reset_profile


def workspace_for(platform: Platform, store: AuditStore, tmp_path: Path) -> service.Workspace:
    env = {"IRCLI_SANDBOX_URL": platform.url, "IRCLI_SANDBOX_TOKEN": TOKEN}
    return service.Workspace(
        store=store, env=env, cwd=tmp_path, user_config_dir=tmp_path, redactor=Redactor()
    )


def test_resume_looks_before_resending_what_may_have_been_applied(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    profile = unsafe_reset_profile(tmp_path)
    workspace = workspace_for(platform, store, tmp_path)
    loaded = service.load_platform(workspace, str(profile))
    ids = account_ids(6, start=40)
    # A run that crashed after its intent was durable and three requests had left:
    spec = RunSpec(
        run="RUN-CRASHED", step="adhoc", action="accounts.reset_password", targets=tuple(ids),
        params={}, profile=str(profile), profile_sha256=loaded.sha256,
    )  # fmt: skip
    journal = RunJournal(store, spec)
    journal.started()
    asyncio.run(journal.intend(ids, batch=False))
    for target in ids[:3]:  # applied by the platform; the answers were lost with the process
        platform.control.post(f"/api/v1/accounts/{target}/reset-password").raise_for_status()
    assert load_run(store, "RUN-CRASHED").counts()["unknown"] == 6

    outcome = asyncio.run(service.resume_run(workspace, "RUN-CRASHED"))

    assert outcome.report.status == "completed"
    assert [outcome.report.results[t].attempts for t in ids] == [0, 0, 0, 1, 1, 1]
    assert outcome.state.counts()["done"] == 6
    # Every account was reset once: none of the first three got a second email.
    assert platform.score()["duplicate_effects"] == 0
    assert all(platform.get(f"/api/v1/accounts/{t}")["password_reset_required"] for t in ids)


def test_resume_refuses_a_profile_that_changed_since_the_run_started(
    platform: Platform, store: AuditStore, tmp_path: Path
) -> None:
    profile = tmp_path / "sandbox-copy.yaml"
    profile.write_text((ROOT / "profiles" / "sandbox.yaml").read_text())
    workspace = workspace_for(platform, store, tmp_path)
    loaded = service.load_platform(workspace, str(profile))
    ids = account_ids(3, start=60)
    spec = RunSpec(
        run="RUN-OLD", step="adhoc", action="accounts.freeze", targets=tuple(ids), params={},
        profile=str(profile), profile_sha256=loaded.sha256,
    )  # fmt: skip
    RunJournal(store, spec).started()  # crashed before any intent
    profile.write_text(profile.read_text().replace("rate: 5000", "rate: 4000"))
    before = platform.score()["requests_total"]
    with pytest.raises(GuardRefused, match="changed since RUN-OLD last ran"):
        asyncio.run(service.resume_run(workspace, "RUN-OLD"))
    assert platform.score()["requests_total"] == before  # nothing was sent
    [refused] = store.records(RecordFilter(kinds=("run.refused",)))
    assert "profile changed" in refused.params["reason"]
    outcome = asyncio.run(service.resume_run(workspace, "RUN-OLD", profile_changed=True))
    assert outcome.report.status == "completed"
    now = service.load_platform(workspace, str(profile)).sha256
    [resumed] = store.records(RecordFilter(run="RUN-OLD", kinds=("run.resumed",)))
    assert resumed.params["profile_sha256"] == now
    assert load_run(store, "RUN-OLD").profile_sha256 == now  # what a later resume compares
