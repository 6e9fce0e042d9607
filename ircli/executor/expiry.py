"""Changes that expire: a switch set for a while, and set back when the time is up.

A run of an expiring action (``flags.set``) asked to expire (``ExpiryRequest``: ``flags set
--for 2h``, a playbook step's ``for:``) records in its ``run.started``, under ``expiry``:

* ``expires_at`` (UTC) and ``expires_after_seconds``;
* ``revert_action`` and ``revert_params``: by target, what the revert will set — the values
  given (``revert_source: given``), else the target's state read from the action's listing
  just before the change (``listing``). A target that still has an open expiry on the same
  profile keeps that expiry's values (``inherited_from``), so extending a kill switch restores
  what was there before the first change, not the switch itself.

Where each expiry stands, and setting back those that are due, is ``ircli.executor.reverts``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from ircli.audit.chain import audit_safe
from ircli.clock import format_utc
from ircli.errors import GuardRefused, InvalidInput, OperationFailed
from ircli.executor.reverts import Expiry, expiries

if TYPE_CHECKING:
    from ircli.executor.service import ActionPlan, Workspace

__all__ = [
    "EXPIRING_ACTIONS",
    "MAX_EXPIRY_SECONDS",
    "ExpiryRequest",
    "expiring",
    "expiry_of",
    "expiry_problem",
]

EXPIRING_ACTIONS = ("flags.set",)
"""Actions that may expire: set-state actions whose earlier state the action's listing shows
(a flag's ``enabled`` and ``rollout_percent``), so that setting it back restores exactly it."""
MAX_EXPIRY_SECONDS = 366 * 86400


def expiry_problem(seconds: float) -> str | None:
    """Why ``seconds`` cannot be an expiry (one sentence), or None."""
    if seconds != int(seconds) or not 1 <= seconds <= MAX_EXPIRY_SECONDS:
        return "an expiry is whole seconds, from 1 s to 366 days (e.g. 30m, 2h or 1d)."
    return None


@dataclass(frozen=True)
class ExpiryRequest:
    """A change asked to expire after ``seconds``, set back with ``revert_action`` (default:
    the action itself) and ``revert_params`` (default: the state read before the change)."""

    seconds: int
    revert_action: str | None = None
    revert_params: Mapping[str, Any] | None = None


def expiring(plan: ActionPlan, request: ExpiryRequest) -> ActionPlan:
    """``plan`` made to expire as ``request`` asks, checked before anything is read or sent:
    the action may expire, the duration is one, and explicit revert values set at least what
    the change sets (a revert that leaves part of the change in place is no revert)."""
    from ircli.executor import service
    from ircli.platform import bind_params

    action = plan.action.name
    if action not in EXPIRING_ACTIONS:
        raise InvalidInput(
            f"the action {action!r} cannot expire: only {', '.join(EXPIRING_ACTIONS)} can, "
            "whose earlier state ircli reads and sets back."
        )
    problem = expiry_problem(request.seconds)
    if problem is not None:
        raise InvalidInput(problem)
    revert = service.action_of(plan.loaded.profile, request.revert_action or action)
    given = request.revert_params
    if given:
        missing = [name for name in _changed(plan.params) if name not in given]
        if missing:
            raise InvalidInput(
                f"the revert must set {', '.join(missing)} too: the change sets it, and the "
                "revert is to undo the change."
            )
        bound = bind_params(revert, given)
        given = audit_safe({name: bound[name] for name in given})  # the chain holds no floats
    return replace(
        plan,
        expiry=ExpiryRequest(int(request.seconds), revert.name, dict(given) if given else None),
    )


def _changed(params: Mapping[str, Any]) -> list[str]:
    """The parameters a change sends (a bound optional one left out is None: kept as is)."""
    return [name for name, value in params.items() if value is not None]


async def expiry_of(workspace: Workspace, plan: ActionPlan) -> dict[str, Any]:
    """What ``run.started`` records of ``plan``'s expiry, read just before the change: the
    values each target is to get back. A target whose state cannot be read (no listing, no
    item, a value missing) refuses the run (``run.refused``, exit 3) unless the values were
    given; ircli never guesses what to restore."""
    request = plan.expiry
    assert request is not None  # the caller's condition
    assert request.revert_action is not None  # set by ``expiring``
    store = workspace.store
    inherited: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    if request.revert_params:
        params = {target: dict(request.revert_params) for target in plan.targets}
    else:
        now = store.clock()
        for open_expiry in _open(expiries(store, now), plan.loaded.ref, plan.targets):
            params[open_expiry.target] = dict(open_expiry.revert_params)
            inherited[open_expiry.target] = open_expiry.run
        unread = [target for target in plan.targets if target not in params]
        if unread:
            params.update(await _read_state(workspace, plan, unread))
    now = store.clock()
    return {
        "expires_at": format_utc(now + timedelta(seconds=request.seconds)),
        "expires_after_seconds": request.seconds,
        "revert_action": request.revert_action,
        "revert_params": params,
        "revert_source": "given" if request.revert_params else "listing",
        "inherited_from": inherited,
    }


def _open(found: Iterable[Expiry], profile: str, targets: Sequence[str]) -> list[Expiry]:
    """The newest expiry still open (pending or due) of each of ``targets`` on ``profile``."""
    newest: dict[str, Expiry] = {}
    for expiry in found:  # oldest first
        if expiry.profile == profile and expiry.target in targets and expiry.open:
            newest[expiry.target] = expiry
    return list(newest.values())


async def _read_state(
    workspace: Workspace, plan: ActionPlan, targets: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Each target's current values of the action's parameters, from its listing."""
    from ircli.executor import service
    from ircli.platform import auth_headers, iter_items

    profile, action = plan.loaded.profile, plan.action
    listing = profile.listings.get(action.target_kind)
    wanted = set(targets)
    items: dict[str, Mapping[str, Any]] = {}
    if listing is not None:
        headers = auth_headers(profile, workspace.env, workspace.redactor)
        try:
            async with (
                service.platform_client(profile, headers, workspace.env, concurrency=1) as client,
                contextlib.aclosing(
                    iter_items(client.http, profile, action.target_kind, {})
                ) as found,
            ):
                async for item in found:
                    if (name := str(item.get(listing.id))) in wanted:
                        items[name] = item
                        if len(items) == len(wanted):
                            break
        except OperationFailed as failed:
            _refuse(workspace, plan, f"the state to restore could not be read: {failed.message}")
            raise
    states: dict[str, dict[str, Any]] = {}
    changed = _changed(plan.params)
    for target in targets:
        item = items.get(target)
        if item is None:
            why = (
                f"the {action.target_kind} listing shows no {target!r}"
                if listing is not None
                else "the action has no listing to read it from"
            )
            _cannot_read(workspace, plan, target, why)
        values = {name: item[name] for name in action.param_specs if item.get(name) is not None}
        missing = [name for name in changed if name not in values]
        if missing:
            _cannot_read(workspace, plan, target, f"its {', '.join(missing)} is not listed")
        states[target] = audit_safe(values)
    return states


def _cannot_read(workspace: Workspace, plan: ActionPlan, target: str, why: str) -> NoReturn:
    reason = f"the state of {target!r} to restore cannot be read: {why}"
    _refuse(workspace, plan, reason)
    raise GuardRefused(
        f"{plan.action.name} on {target!r} cannot expire: {why}, so what to set back is "
        "unknown; nothing was sent.",
        hint="Give the values to set back (flags set --revert-on/--revert-off/--revert-rollout, "
        "or the step's undo: {params: …}), or change it without an expiry.",
    )


def _refuse(workspace: Workspace, plan: ActionPlan, reason: str) -> None:
    from ircli.executor import service

    service.refuse(workspace, plan.action.name, len(plan.targets), plan.incident, reason)


# -- the expiries in a store ----------------------------------------------------------------
