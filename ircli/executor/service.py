"""Runs of one action: plan (with guards), execute, resume — the API the CLI calls.

A ``Workspace`` carries what a run needs from outside (the audit store, the environment
mapping, directories, the redactor); nothing here reads global state.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ircli.audit.leases import LeaseHeld
from ircli.audit.records import Anchor, NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import GuardRefused, InvalidInput, IrcliError, OperationFailed
from ircli.executor.crashpoints import CrashHook, no_crash
from ircli.executor.delivery import Delivery, forget_key, generator_for
from ircli.executor.engine import ExecutionReport, Executor, Tuning
from ircli.executor.events import EventSink, ignore
from ircli.executor.expiry import ExpiryRequest, expiry_of
from ircli.executor.journal import (
    RunJournal,
    RunSpec,
    RunState,
    idempotency_key,
    load_run,
    merge_results,
)
from ircli.platform.client import PlatformClient
from ircli.platform.generate import shown
from ircli.platform.listing import Skipped
from ircli.platform.model import ActionSpec, Outcome, Profile
from ircli.platform.protected import ProtectedSet
from ircli.platform.render import PreparedRequest, render
from ircli.platform.sent import counting, http_requests
from ircli.redaction import Redactor

__all__ = [
    "ActionPlan",
    "LoadedProfile",
    "RunOutcome",
    "Workspace",
    "action_run_ids",
    "list_runs",
    "load_platform",
    "new_run_id",
    "plan_action",
    "platform_client",
    "resume_run",
    "run_plan",
    "select_targets",
]

_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_run_id(now: datetime) -> str:
    """``RUN-YYYYMMDD-XXXXXX``."""
    return f"RUN-{now:%Y%m%d}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class Workspace:
    """What runs need from outside."""

    store: AuditStore
    env: Mapping[str, str]
    cwd: Path
    user_config_dir: Path
    redactor: Redactor
    new_run_id: Callable[[datetime], str] = new_run_id
    crash: CrashHook = no_crash
    """Test aid (``IRCLI_TEST_CRASH_AT``): kill the process at a named point."""
    webhooks: Mapping[str, str] = field(default_factory=dict)
    """Named webhook URLs (config ``webhooks``) for playbook ``notify`` steps."""
    data_dir: Path | None = None
    """ircli's data directory: generated values' keys and delivery files live under it."""
    preflight: bool = True
    """Make one read before a run writes anything (``ircli.executor.preflight``)."""
    config_file: Path | None = None
    """The ``ircli.yaml`` in force: its ``protected:`` block (``ircli.executor.protection``)."""


@dataclass(frozen=True)
class LoadedProfile:
    """A profile with where it came from and a hash of its text (recorded with each run)."""

    profile: Profile
    ref: str
    path: Path
    sha256: str


def load_platform(workspace: Workspace, ref: str | None) -> LoadedProfile:
    """Resolve and load a profile by name or path, with its secret variables read (the auth
    secret is read when requests are built)."""
    from ircli.platform import load_profile, profile_search_dirs, resolve_profile
    from ircli.platform.secrets import resolve_secret_variables

    if not ref:
        raise InvalidInput(
            "no platform profile given; pass --profile NAME|PATH or set IRCLI_PROFILE.",
            hint="'ircli profile list' shows the available profiles.",
        )
    path = resolve_profile(ref, profile_search_dirs(workspace.user_config_dir), cwd=workspace.cwd)
    profile = load_profile(path, workspace.env)
    profile = resolve_secret_variables(profile, workspace.env, workspace.redactor)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedProfile(profile, ref, path, digest)


def action_of(profile: Profile, name: str) -> ActionSpec:
    """The named action, or a located-enough error with suggestions."""
    action = profile.actions.get(name)
    if action is None:
        from ircli.wording import did_you_mean

        known = ", ".join(sorted(profile.actions)) or "none"
        raise InvalidInput(
            f"the profile {profile.name!r} has no action {name!r}"
            f"{did_you_mean(name, profile.actions)}; it has: {known}."
        )
    return action


@dataclass(frozen=True)
class ActionPlan:
    """One action over a fixed list of targets, checked and ready to run."""

    loaded: LoadedProfile
    action: ActionSpec
    params: Mapping[str, Any]
    targets: tuple[str, ...]
    incident: str | None = None
    step: str = "adhoc"
    batch_size: int | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    selection: Mapping[str, Any] | None = None
    """How the targets were chosen: ``--id``, an ids file or ``--where`` (``run.started``)."""
    expiry: ExpiryRequest | None = None
    """Set the targets back after a while (``ircli.executor.expiry.expiring``)."""
    automated: bool = False
    """Started by ircli itself, not a person (an expiry's revert)."""
    protected: tuple[str, ...] = ()
    """The targets held back as protected accounts: recorded, never sent."""
    protection: Mapping[str, Any] | None = None
    """The protection the run goes with (``ProtectedSet.record``, in ``run.started``)."""

    @property
    def to_send(self) -> tuple[str, ...]:
        """The targets the run sends: all but the protected ones, in order."""
        if not self.protected:
            return self.targets
        held = set(self.protected)
        return tuple(target for target in self.targets if target not in held)

    def preview(self, run: str, count: int = 3) -> list[tuple[PreparedRequest, str]]:
        """The first requests exactly as they would be sent, with their idempotency keys."""
        profile, action = self.loaded.profile, self.action
        targets = self.to_send
        if self.batch_size and action.batch:
            size = min(self.batch_size, action.batch.max_size)
            chunks = [list(targets[i : i + size]) for i in range(0, len(targets), size)]
            return [
                (
                    render(action.batch.request, targets=chunk, params=self.params,
                           variables=profile.variables),
                    idempotency_key(run, self.step, action.name, chunk),
                )
                for chunk in chunks[:count]
            ]  # fmt: skip
        return [
            (
                render(action.request, target=target, params=self.params,
                       variables=profile.variables, generated=shown(action.generate)),
                idempotency_key(run, self.step, action.name, [target]),
            )
            for target in targets[:count]
        ]  # fmt: skip


def plan_action(
    workspace: Workspace,
    loaded: LoadedProfile,
    *,
    action_name: str,
    targets: Sequence[str],
    params: Mapping[str, Any],
    max_targets: int,
    incident: str | None = None,
    batch_size: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    reason: str | None = None,
    selection: Mapping[str, Any] | None = None,
    protected: ProtectedSet | None = None,
    owners: Mapping[str, str] | None = None,
) -> ActionPlan:
    """Check everything that can be checked before a request: action, params, caps, incident.

    ``protected`` (``ircli.executor.protection.resolve_protection``) holds back the targets
    that are protected accounts, or objects whose account (``owners``: id → account id, from
    a listing read) is one; ``None`` is refused where protection is declared."""
    from ircli.platform import bind_params

    action = action_of(loaded.profile, action_name)
    given = dict(params)
    if reason is not None and "reason" in (action.param_specs or action.params):
        given.setdefault("reason", reason)
    bound = bind_params(action, given)
    check_request_headers(loaded.profile, action, bound)
    # Listings can name an object twice (a page boundary moving under a live flood); a run
    # acts on each target once, and its counts are per target.
    targets = list(dict.fromkeys(targets))
    if not targets:
        raise InvalidInput("no targets: give --id, --ids-file or --where.")
    if protected is None:
        from ircli.executor.protection import require_resolved

        require_resolved(workspace, loaded)
        protected = ProtectedSet()
    held = protected.held(action.target_kind, targets, owners)
    sent = len(targets) - len(held)  # the cap guards what is sent
    if sent > max_targets:
        refuse(workspace, action.name, sent, incident, f"over the cap of {max_targets}")
        raise GuardRefused(
            f"{sent:,} targets exceed the cap of {max_targets:,}; nothing was sent.",
            hint="Raise it deliberately with --max-targets N (or max_targets in ircli.yaml).",
        )
    if batch_size is not None and action.batch is None:
        raise InvalidInput(f"the action {action.name!r} has no batch endpoint in this profile.")
    if incident is not None:
        from ircli.incident.service import IncidentService

        IncidentService(workspace.store).get(incident)  # refuses an unknown incident
    return ActionPlan(
        loaded=loaded,
        action=action,
        params=bound,
        targets=tuple(targets),
        incident=incident,
        batch_size=batch_size,
        overrides=dict(overrides or {}),
        reason=reason,
        selection=selection,
        protected=tuple(held),
        protection=protected.record(),
    )


def check_request_headers(profile: Profile, action: ActionSpec, params: Mapping[str, Any]) -> None:
    """Every header ``action`` (and the health probe) could send, checked with the run's
    parameters and the profile's variables before anything is sent (``check_headers``)."""
    from ircli.platform.render import check_headers

    templates = [action.request, profile.health]
    templates += [action.batch.request if action.batch else None]
    templates += [action.check.request if action.check else None]
    for template in templates:
        if template is not None:
            check_headers(template, params=params, variables=profile.variables)


def refuse(
    workspace: Workspace,
    action: str,
    count: int,
    incident: str | None,
    reason: str,
    sent: Mapping[str, int] | None = None,
) -> None:
    """Record that a guard refused a run before any action was sent (evidence too), with
    the reads it took: ``sent``, else the open tally (``ircli.platform.sent``)."""
    workspace.store.append(
        NewRecord(
            kind="run.refused",
            incident=incident,
            params={
                "action": action,
                "target_count": count,
                "reason": reason,
                "http_requests": http_requests(sent),
            },
        )
    )


async def select_targets(
    workspace: Workspace,
    loaded: LoadedProfile,
    listing: str,
    filters: Mapping[str, str],
    limit: int | None = None,
    owners: tuple[str, dict[str, str]] | None = None,
) -> tuple[list[str], Skipped]:
    """Ids of the objects of ``listing`` matching the server-side ``filters``, each once, and
    the items left out for an unusable id; reading stops after ``limit`` ids (a cap plus one
    is enough to refuse). ``owners`` (field, into): each item's value of the field that names
    its account is put in ``into`` by id (for protected accounts' objects)."""
    from ircli.platform import auth_headers, check_filters, iter_items, listing_of

    profile = loaded.profile
    spec = listing_of(profile, listing)
    check_filters(spec, filters)
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    found: dict[str, None] = {}
    skipped = Skipped()
    async with (
        platform_client(profile, headers, workspace.env, concurrency=1) as client,
        contextlib.aclosing(
            iter_items(client.http, profile, listing, filters, skipped=skipped)
        ) as items,
    ):
        async for item in items:
            found.setdefault(str(item[spec.id]), None)
            if owners is not None and owners[0] in item:
                owners[1][str(item[spec.id])] = str(item[owners[0]])
            if limit is not None and len(found) >= limit:
                break
    return list(found), skipped


def platform_client(
    profile: Profile,
    headers: Mapping[str, str],
    env: Mapping[str, str],
    concurrency: int,
    timeout: float | None = None,
) -> PlatformClient:
    """The run's client for ``profile``'s platform, with its TLS settings and the proxy
    ``env`` names for it."""
    from ircli.platform.proxies import proxy_for
    from ircli.platform.tls import ssl_context

    limits = profile.limits
    return PlatformClient(
        profile.base_url,
        headers=headers,
        timeout=timeout or limits.timeout,
        connect_timeout=limits.connect_timeout,
        max_connections=concurrency,
        idempotency_header=profile.idempotency_header,
        tls=ssl_context(profile, env),
        proxy=proxy_for(profile.base_url, env),
    )


@dataclass(frozen=True)
class RunOutcome:
    """A finished (or stopped) execution, with the audit head after it."""

    spec: RunSpec
    report: ExecutionReport
    head: Anchor | None
    state: RunState
    counts: dict[str, int]
    """``state.counts()`` as the ``run.finished`` record holds them (counted once)."""
    http_requests: dict[str, int] = field(default_factory=dict)
    """The HTTP requests this execution sent, by kind (``ircli.platform.sent``)."""


async def run_plan(
    workspace: Workspace,
    plan: ActionPlan,
    *,
    run_id: str | None = None,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
) -> RunOutcome:
    """Start a new run of ``plan``: ``run.started``, the execution, ``run.finished`` (with
    the HTTP requests the run sent, preflight included)."""
    with counting():
        return await _run_plan(workspace, plan, run_id, on_event, stop)


async def _run_plan(
    workspace: Workspace,
    plan: ActionPlan,
    run_id: str | None,
    on_event: EventSink,
    stop: asyncio.Event | None,
) -> RunOutcome:
    run = run_id or workspace.new_run_id(workspace.store.clock())
    spec = RunSpec(
        run=run,
        step=plan.step,
        action=plan.action.name,
        targets=plan.targets,
        params=plan.params,
        profile=plan.loaded.ref,
        profile_sha256=plan.loaded.sha256,
        incident=plan.incident,
        batch_size=plan.batch_size,
        overrides=plan.overrides,
        reason=plan.reason,
        selection=plan.selection,
        dsa_decision=plan.action.dsa.model_dump(exclude_none=True) if plan.action.dsa else None,
        automated=plan.automated,
        protection=plan.protection,
    )
    to_send = list(plan.to_send)
    if to_send:  # all protected: nothing to write, so nothing to check first
        await _preflight(workspace, plan.loaded.profile, plan.action, spec)
    if plan.expiry is not None:  # what to set back when it is due: read just before the change
        spec = replace(spec, expiry=await expiry_of(workspace, plan))
    with workspace.store.leases.hold(run, workspace.store.clock()):
        journal = RunJournal(workspace.store, spec, workspace.crash)
        journal.started(protected=plan.protected)
        return await _execute(
            workspace, plan.loaded, spec, journal, to_send, on_event, stop, None, plan.protected
        )


async def resume_run(
    workspace: Workspace,
    run_id: str,
    *,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
    profile_changed: bool = False,
    protected: ProtectedSet | None = None,
    override_protected: str | None = None,
) -> RunOutcome:
    """Continue a run from the audit store alone; targets known settled are never resent.

    The profile is found again by the name or path the run recorded; if its text changed
    since (another endpoint, other limits), resuming is refused unless ``profile_changed``.
    Protection is resolved again (unless ``protected`` is given: a playbook run's), and
    targets left that are protected now are held back too, unless ``override_protected``
    (a person's reason to lift them, ``--override-protected``).
    """
    store = workspace.store
    with contextlib.ExitStack() as leased, counting():
        try:
            leased.enter_context(store.leases.hold(run_id, store.clock()))
        except LeaseHeld as held:
            spec = load_run(store, run_id).spec
            refuse(workspace, spec.action, len(spec.targets), spec.incident,
                   f"resume refused: {run_id} is running in {held.holder}")  # fmt: skip
            raise
        return await _resume_leased(
            workspace, run_id, on_event, stop, profile_changed, protected, override_protected
        )


async def _resume_leased(
    workspace: Workspace,
    run_id: str,
    on_event: EventSink,
    stop: asyncio.Event | None,
    profile_changed: bool,
    protected: ProtectedSet | None,
    override_protected: str | None,
) -> RunOutcome:
    """``resume_run`` once the run's lease is held."""
    from ircli.executor.protection import resolve_protection

    state = load_run(workspace.store, run_id)
    if state.status == "completed":
        raise InvalidInput(f"the run {run_id} already completed; there is nothing to resume.")
    spec = state.spec
    loaded = load_platform(workspace, spec.profile)
    if loaded.sha256 != state.profile_sha256 and not profile_changed:
        refuse(workspace, spec.action, len(spec.targets), spec.incident,
               "resume refused: the profile changed since the run last ran")  # fmt: skip
        raise GuardRefused(
            f"the profile {spec.profile!r} changed since {run_id} last ran (SHA-256 "
            f"{state.profile_sha256[:12]}… then, {loaded.sha256[:12]}… now); nothing was sent.",
            hint="Restore it, or resume with --profile-changed to use it as it is now.",
        )
    # The environment may have changed since (a variable now holds a line break).
    action = action_of(loaded.profile, spec.action)
    check_request_headers(loaded.profile, action, spec.params)
    if protected is None:
        try:
            protected = await resolve_protection(workspace, loaded, override=override_protected)
        except IrcliError as failed:
            refuse(workspace, spec.action, len(spec.targets), spec.incident,
                   f"resume refused: protected accounts unresolved: {failed.message}")  # fmt: skip
            raise
    settled = state.settled()
    remaining = [target for target in spec.targets if target not in settled]
    # Ids only: the objects' accounts are known from listing reads, which a resume has not.
    held = protected.held(action.target_kind, remaining)
    if held:
        kept = set(remaining).difference(held)
        remaining = [target for target in remaining if target in kept]
    if remaining:
        await _preflight(workspace, loaded.profile, action, spec)
    journal = RunJournal(workspace.store, spec, workspace.crash)
    journal.resumed(
        state.counts(), profile_sha256=loaded.sha256, protection=protected.record(), held=held
    )
    return await _execute(
        workspace, loaded, spec, journal, remaining, on_event, stop, state, tuple(held)
    )


async def _preflight(
    workspace: Workspace, profile: Profile, action: ActionSpec, spec: RunSpec
) -> None:
    """The read before the first write (unless skipped); a failure is recorded as
    ``run.refused`` and raised (exit 1, nothing sent)."""
    from ircli.executor.preflight import preflight
    from ircli.platform import auth_headers

    if not workspace.preflight:
        return
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    async with platform_client(profile, headers, workspace.env, concurrency=1) as client:
        try:
            await preflight(profile, action, client)
        except OperationFailed as failed:
            reason = f"preflight failed: {failed.message}"
            refuse(workspace, action.name, len(spec.targets), spec.incident, reason)
            raise


async def _execute(
    workspace: Workspace,
    loaded: LoadedProfile,
    spec: RunSpec,
    journal: RunJournal,
    targets: list[str],
    on_event: EventSink,
    stop: asyncio.Event | None,
    prior: RunState | None,
    protected: Sequence[str] = (),
) -> RunOutcome:
    """Send ``targets``; ``protected`` were held back (recorded already), for the counts."""
    from ircli.executor.protection import PROTECTED
    from ircli.platform import auth_headers

    profile = loaded.profile
    action = action_of(profile, spec.action)
    tuning = Tuning.from_limits(profile.limits, {**spec.overrides, "batch_size": spec.batch_size})
    journal.max_outage = tuning.breaker_max_pause  # --max-pause: the platform or the store
    headers = auth_headers(profile, workspace.env, workspace.redactor)
    report: ExecutionReport | None = None
    delivery: Delivery | None = None
    generator = None
    try:
        if action.generate and not (spec.batch_size and action.batch):
            if workspace.data_dir is None:
                raise InvalidInput(f"{action.name} generates values, but there is no data folder.")
            generator = generator_for(
                action, spec.run, workspace.data_dir, resuming=prior is not None
            )
            delivery = Delivery(action, spec.run, workspace.data_dir)
        timeout = spec.overrides.get("timeout")
        async with platform_client(
            profile, headers, workspace.env, tuning.concurrency, timeout
        ) as client:
            executor = Executor(
                profile=profile,
                action=action,
                params=spec.params,
                client=client,
                journal=journal,
                tuning=tuning,
                on_event=on_event,
                stop=stop,
                crash=workspace.crash,
                generator=generator,
                delivery=delivery,
            )
            # A resumed run's write-ahead gap: sent again, or looked at first (not idempotent).
            unknown = prior.unknown() if prior is not None else ()
            report = await executor.run(targets, unknown=unknown)
    finally:
        if report is None:
            # Aborted (a second Ctrl-C, a cancelled task) or failed inside: what was done
            # is in the store, flushed by the executor, but not here. A finish without
            # counts makes every reader (runs list too) rebuild them from the records.
            journal.finished("failed", _aborted(spec))
        else:
            # What the store now holds: what was known before plus this execution's
            # outcomes (every target it took has an outcome, so no re-read is needed).
            state = prior if prior is not None else RunState(spec, "running")
            # Intended: what this execution wrote intents for (a target left unknown — its
            # check could not be read — has an intent but no result).
            state.intended.update(journal.intended)
            state.intended.update(report.results)
            merge_results(state.results, report.results)
            merge_results(state.results, dict.fromkeys(protected, PROTECTED))
            counts = state.counts()
            if not report.store_failed:  # else the store refuses it too: resume goes on
                journal.finished(report.status, _summary(spec, counts, report))
            state.status = report.status  # what the run.finished record just said
        if generator is not None and report is not None and report.status == "completed":
            forget_key(spec.run, workspace.data_dir)  # nothing left to resend
        if delivery is not None:
            delivery.close()  # after the run's records: a failed delivery is said on its own
    return RunOutcome(spec, report, workspace.store.head(), state, counts, http_requests())


def _aborted(spec: RunSpec) -> dict[str, Any]:
    return {
        "reason": "the execution stopped before it could be summed up",
        "summary": f"{spec.action}: stopped; see runs show {spec.run}",
        "http_requests": http_requests(),
    }


def _summary(spec: RunSpec, counts: dict[str, int], report: ExecutionReport) -> dict[str, Any]:
    done = counts[Outcome.DONE.value] + counts[Outcome.ALREADY_DONE.value]
    held = counts[Outcome.PROTECTED.value]
    return {
        "counts": counts,
        "requests": report.requests,
        "retries": report.retries,
        "http_requests": http_requests(),
        "elapsed_ms": int(report.elapsed * 1000),
        "reason": report.reason,
        "summary": f"{spec.action}: {done:,} of {len(spec.targets):,} targets done"
        + (f", {held:,} protected (not sent)" if held else ""),
    }


def action_run_ids(store: AuditStore) -> list[str]:
    """The ids of every action run in the store, oldest first (playbook runs have none)."""
    return [
        record.run
        for record in store.records(RecordFilter(kinds=("run.started",)))
        if record.run is not None and "action" in record.params
    ]


def list_runs(store: AuditStore) -> list[RunState]:
    """Every action run in the store, newest first."""
    return [load_run(store, run) for run in reversed(action_run_ids(store))]
