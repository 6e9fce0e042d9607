"""Running the executor against an ``httpx.MockTransport`` handler (no server)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

import httpx

from ircli.audit.store import AuditStore
from ircli.executor.engine import ExecutionReport, Executor, Tuning
from ircli.executor.events import Event
from ircli.executor.journal import RunJournal, RunSpec
from ircli.platform.client import PlatformClient
from ircli.platform.model import Profile

BASE = "http://sandbox.test"
Handler = Callable[[httpx.Request], httpx.Response]


def run(
    store: AuditStore,
    profile: Profile,
    handler: Handler,
    targets: list[str],
    *,
    action: str = "streams.suspend",
    tuning: Tuning | None = None,
    events: list[Event] | None = None,
    everything: Sequence[str] | None = None,
    unknown: Sequence[str] = (),
    run_id: str = "RUN-T",
    rng: random.Random | None = None,
    max_outage: float | None = None,
) -> ExecutionReport:
    """One execution of ``action`` for ``targets``, journalled in ``store``.

    ``everything`` is the run's whole target list when ``targets`` is what a resume has left
    (then no ``run.started`` is written), ``unknown`` the resumed run's write-ahead gap.
    """
    spec = RunSpec(
        run=run_id, step="adhoc", action=action, targets=tuple(everything or targets),
        params={}, profile="sandbox", profile_sha256="0" * 64,
        batch_size=tuning.batch_size if tuning else None,
    )  # fmt: skip
    journal = RunJournal(store, spec)
    if max_outage is not None:
        journal.max_outage = max_outage
    if everything is None:
        journal.started()

    async def main() -> ExecutionReport:
        client = PlatformClient(
            BASE, headers={}, timeout=5, connect_timeout=1, max_connections=4,
            idempotency_header="Idempotency-Key", transport=httpx.MockTransport(handler),
        )  # fmt: skip
        executor = Executor(
            profile=profile, action=profile.actions[action], params={}, client=client,
            journal=journal,
            tuning=tuning or Tuning(concurrency=4, rate=10_000, backoff_base=0.001,
                                    backoff_max=0.01),
            on_event=(events.append if events is not None else lambda _e: None), rng=rng,
        )  # fmt: skip
        try:
            return await executor.run(targets, unknown=unknown)
        finally:
            await client.aclose()

    report = asyncio.run(main())
    if not report.store_failed:  # as the service does: that store refuses the finish too
        journal.finished(report.status, {})
    return report


def with_action(profile: Profile, action: str = "streams.suspend", **changes: object) -> Profile:
    """``profile`` with some fields of one action changed (``idempotent=False`` …)."""
    changed = profile.actions[action].model_copy(update=changes)
    return profile.model_copy(update={"actions": {**profile.actions, action: changed}})
