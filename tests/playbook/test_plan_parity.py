"""Plan/apply parity: what a run executes is exactly what its plan said (property test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircli.audit.records import RecordFilter
from ircli.audit.store import open_store
from ircli.executor.service import Workspace
from ircli.playbook.plans import SavedPlan
from ircli.playbook.runner import open_playbook, run_playbook
from ircli.redaction import Redactor
from tests.executor.conftest import ROOT, TOKEN, Platform

PLAYBOOK = """\
playbook: 1
name: parity
profile: sandbox
inputs:
  ids: {type: list, default: []}
  min_reports: {type: integer, default: 30}
steps:
  - id: reported
    query:
      listing: streams
      filters: {status: live, min_reports: "${inputs.min_reports}"}
  - id: given
    action: streams.suspend
    targets: {from: inputs.ids}
    batch: 7
  - id: found
    action: streams.suspend
    targets: {from: steps.reported.ids}
"""


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ids=st.lists(st.integers(min_value=0, max_value=1999), max_size=25, unique=True),
    min_reports=st.integers(min_value=25, max_value=60),
)
def test_applying_a_plan_executes_exactly_the_planned_targets(
    platform: Platform, tmp_path: Path, ids: list[int], min_reports: int
) -> None:
    playbook_file = tmp_path / "parity.yaml"
    playbook_file.write_text(PLAYBOOK)
    store = open_store(str(tmp_path / f"audit-{len(ids)}-{min_reports}.db"), operator="tester")
    workspace = Workspace(
        store=store,
        env={"IRCLI_SANDBOX_URL": platform.url, "IRCLI_SANDBOX_TOKEN": TOKEN},
        cwd=ROOT,
        user_config_dir=tmp_path,
        redactor=Redactor(),
    )
    inputs = {"ids": ",".join(f"str_{i:07d}" for i in ids), "min_reports": str(min_reports)}
    book = open_playbook(workspace, str(playbook_file), None)

    async def plan_then_apply() -> tuple[dict[str, object], str, str]:
        planned = await run_playbook(
            workspace, book, inputs=inputs, profile_ref=None, incident=None, dry_run=True
        )
        saved = planned.saved_plan()
        applied = await run_playbook(
            workspace,
            book,
            inputs={},
            profile_ref=None,
            incident=None,
            plan=SavedPlan(
                saved["run"],
                saved["plan_hash"],
                saved["playbook_sha256"],
                saved["inputs"],
                saved["actions"],
            ),
        )
        assert applied.status == "completed", applied.reason
        return saved, applied.run, applied.plan_hash

    try:
        saved, run, applied_hash = asyncio.run(plan_then_apply())
        assert applied_hash == saved["plan_hash"]
        executed: dict[str, set[str]] = {}
        for record in store.records(RecordFilter(kinds=("action.intent",))):
            assert record.run is not None
            if record.run.startswith(f"{run}."):
                executed.setdefault(str(record.step), set()).update(record.params["targets"])
        planned = {a["step"]: set(a["targets"]) for a in saved["actions"] if a["targets"]}
        assert executed == planned
    finally:
        store.close()
