"""StepRunner pieces that need no platform."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ircli.audit.store import AuditStore
from ircli.executor import service
from ircli.executor.events import ignore
from ircli.playbook.execution import StepRunner
from ircli.playbook.model import Query
from ircli.redaction import Redactor

ROOT = Path(__file__).resolve().parents[2]


def test_query_ids_name_each_object_once(store: AuditStore, tmp_path: Path) -> None:
    workspace = service.Workspace(
        store=store, env={}, cwd=tmp_path, user_config_dir=tmp_path, redactor=Redactor()
    )
    loaded = service.load_platform(workspace, str(ROOT / "profiles" / "sandbox.yaml"))
    runner = StepRunner(
        workspace, loaded, run="R", incident=None, dry_run=True, on_event=ignore,
        stop=asyncio.Event(),
    )  # fmt: skip
    query = Query.model_construct(listing="accounts")  # built in code: nothing to validate
    # A listing paged while the flood changes it can return an object twice.
    items = [{"id": "a"}, {"id": "b"}, {"id": "a"}, {"name": "no id"}, {"id": 7}]
    assert runner._ids(query, items) == ["a", "b", "7"]
