"""Read one step of a playbook: its kind, its keys, and everything it references.

A step is a mapping with an ``id`` and exactly one kind key (``query``, ``action``, ``note``,
``status``, ``approval``, ``wait``, ``notify``, ``include``); the other keys it may have depend on
the kind. Every value is checked here, against the profile when it is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ircli.incident.lifecycle import MILESTONES, STATUSES
from ircli.incident.model import NOTE_KINDS
from ircli.platform.fields import ANY_KEY, did_you_mean
from ircli.platform.fields import Path as FieldPath
from ircli.platform.model import ActionSpec
from ircli.playbook.checks import Checker, StepInfo
from ircli.playbook.inputs import convert_input
from ircli.playbook.model import (
    ActionStep,
    ApprovalPolicy,
    ApprovalStep,
    Canary,
    Controls,
    IncludeStep,
    NoteStep,
    NotifyStep,
    Playbook,
    QueryStep,
    StatusStep,
    Step,
    Targets,
    Undo,
    WaitStep,
)
from ircli.playbook.templates import Template

__all__ = ["KIND_KEYS", "STEP_ID", "IncludeLoader", "read_approvals", "read_step"]

STEP_ID = re.compile(r"[a-z][a-z0-9_]*")
_WEBHOOK = re.compile(r"[a-z0-9][a-z0-9_-]*")
_COMMON = ("id", "description", "when")
_CONTROL_KEYS = (
    "batch",
    "concurrency",
    "rate",
    "retries",
    "timeout",
    "max_targets",
    "max_failure_ratio",
)
KIND_KEYS: Mapping[str, tuple[str, ...]] = {
    "query": (),
    "action": ("targets", "params", *_CONTROL_KEYS, "canary", "on_error", "approvals", "undo"),
    "note": (),
    "status": (),
    "approval": (),
    "wait": (),
    "notify": (),
    "include": (),
}
"""Each step kind and the keys it takes besides ``id``, ``description``, ``when`` and itself."""
_TARGET_SOURCES = ("ids", "file", "from", "query")
_CANARY_KEYS = ("first", "percent", "check", "query", "settle", "on_fail")
_CANARY_VALUES = ("attempted", "succeeded", "failed", "failure_ratio")
_QUERY_VALUES = ("count", "ids", "items")
_WAIT_KEYS = ("query", "until", "fail_if", "every", "timeout", "on_fail")
_MAX_INLINE_IDS = 1000
MAX_WAIT = 24 * 3600.0
MAX_APPROVALS = 10

IncludeLoader = Callable[[FieldPath, str], tuple[Path, Playbook]]
"""Loads an included file (path as written) → its resolved path and validated playbook."""


def read_step(c: Checker, path: FieldPath, value: Any, include: IncludeLoader) -> Step:
    """One step at ``path`` (``steps -> 2``); earlier steps are in ``c.earlier``."""
    data = c.f.mapping(path, value, ANY_KEY)
    kinds = [key for key in data if key in KIND_KEYS]
    if not kinds:
        for key in data:
            if key not in _COMMON:
                close = did_you_mean(key, KIND_KEYS)
                raise c.fail(
                    (*path, key),
                    f"unknown key{close}; a step needs one of: {', '.join(KIND_KEYS)}."
                    if close
                    else f"unknown key; a step needs one of: {', '.join(KIND_KEYS)}.",
                    at_key=True,
                )
        raise c.fail(path, f"the step has no kind; give one of: {', '.join(KIND_KEYS)}.")
    if len(kinds) > 1:
        raise c.fail(
            (*path, kinds[1]),
            f"a step has exactly one kind, this one has {kinds[0]!r} and {kinds[1]!r}.",
            at_key=True,
        )
    kind = kinds[0]
    data = c.f.mapping(path, value, (*_COMMON, kind, *KIND_KEYS[kind]), required=("id",))
    common: dict[str, Any] = {
        "id": data["id"],
        "location": c.f.loaded.where(path),
        "path": " -> ".join(str(p) for p in path),
        "description": c.f.text((*path, "description"), data.get("description", "")),
        "when": None,
    }
    if data.get("when") is not None:
        common["when"] = c.expression((*path, "when"), data["when"])
    reader = _READERS[kind]
    return reader(c, path, data, common, include)


def read_approvals(c: Checker, path: FieldPath, value: Any) -> ApprovalPolicy:
    """``{count: N, expires: 30m}`` (``count`` defaults to 1, ``expires`` to 30 minutes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"count": value}
    data = c.f.mapping(path, value, ("count", "expires", "message"))
    return ApprovalPolicy(
        count=c.f.integer((*path, "count"), data.get("count", 1), minimum=1, maximum=MAX_APPROVALS),
        expires=c.f.duration((*path, "expires"), data.get("expires", "30m")),
        location=c.f.loaded.where(path),
    )


# -- step kinds --------------------------------------------------------------------------------


def _query(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    query = c.query((*path, "query"), data["query"])
    c.earlier[common["id"]] = StepInfo("query", query.listing)
    return QueryStep(**common, query=query)


def _action(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    name = c.f.string((*path, "action"), data["action"])
    spec = _action_spec(c, (*path, "action"), name)
    if "targets" not in data:
        raise c.fail(path, "an action step needs targets: ids, file, from or query.")
    targets = _targets(c, (*path, "targets"), data["targets"], spec)
    params = _params(c, (*path, "params"), data.get("params", {}), spec)
    controls = _controls(c, path, data, spec)
    canary = None
    if data.get("canary") is not None:
        canary = _canary(c, (*path, "canary"), data["canary"])
    undo = None
    if data.get("undo") is not None:
        undo = _undo(c, (*path, "undo"), data["undo"], name, spec)
    on_error = "abort"
    if "on_error" in data:
        on_error = c.f.choice(
            (*path, "on_error"),
            data["on_error"],
            ("abort", "continue", "rollback"),
            what="on_error",
        )
        if on_error == "rollback" and spec is not None and spec.inverse is None and undo is None:
            raise c.fail(
                (*path, "on_error"),
                f"the action {name!r} declares no inverse, so it cannot be rolled back.",
                hint="Declare how to revert it with undo: {params: {...}}, or use abort.",
            )
    approvals = None
    if data.get("approvals") is not None:
        approvals = read_approvals(c, (*path, "approvals"), data["approvals"])
    c.earlier[common["id"]] = StepInfo("action", spec.target_kind if spec else None)
    return ActionStep(
        **common,
        action=name,
        targets=targets,
        params=params,
        controls=controls,
        canary=canary,
        on_error=on_error,  # type: ignore[arg-type]
        approvals=approvals,
        undo=undo,
    )


def _undo(c: Checker, path: FieldPath, value: Any, action: str, spec: ActionSpec | None) -> Undo:
    data = c.f.mapping(path, value, ("action", "params"))
    name = action
    if "action" in data:
        name = c.f.string((*path, "action"), data["action"])
    undo_spec = _action_spec(c, (*path, "action"), name)
    if spec is not None and undo_spec is not None and spec.target_kind != undo_spec.target_kind:
        raise c.fail(
            (*path, "action"),
            f"the undo action {name!r} takes {undo_spec.target_kind} ids, "
            f"but {action!r} takes {spec.target_kind} ids.",
        )
    params = _params(c, (*path, "params"), data.get("params", {}), undo_spec)
    return Undo(action=name, location=c.f.loaded.where(path), params=params)


def _short_form(
    c: Checker, where: FieldPath, raw: Any, main: str, others: tuple[str, ...]
) -> tuple[dict[str, Any], FieldPath]:
    """A step body written either whole (a mapping with ``main`` and ``others``) or as just
    its ``main`` value; returns the body and the path of the ``main`` value for errors."""
    if isinstance(raw, dict):
        return c.f.mapping(where, raw, (main, *others), required=(main,)), (*where, main)
    return {main: raw}, where


def _note(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    where = (*path, "note")
    body, message_path = _short_form(c, where, data["note"], "message", ("kind",))
    kind = "note"
    if "kind" in body:
        kind = c.f.choice((*where, "kind"), body["kind"], NOTE_KINDS, what="note kind")
    message = c.template(message_path, c.f.string(message_path, body["message"]))
    c.earlier[common["id"]] = StepInfo("note")
    return NoteStep(**common, message=message, note_kind=kind)


def _status(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    where = (*path, "status")
    raw = data["status"]
    if isinstance(raw, dict):
        body = c.f.mapping(where, raw, ("status", "milestone", "message"))
        if "status" not in body and "milestone" not in body:
            raise c.fail(where, "give a status, a milestone, or both.")
    else:
        body = {"status": raw}
        where = (*path,)
    status = milestone = None
    if "status" in body:
        status = c.f.choice((*where, "status"), body["status"], STATUSES, what="incident status")
    if "milestone" in body:
        milestone = c.f.choice(
            (*where, "milestone"), body["milestone"], MILESTONES, what="milestone"
        )
    message: str | Template = ""
    if "message" in body:
        message = c.template((*where, "message"), body["message"])
    c.earlier[common["id"]] = StepInfo("status")
    return StatusStep(**common, status=status, milestone=milestone, message=message)


def _approval(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    where = (*path, "approval")
    raw = data["approval"]
    message: str | Template = ""
    if isinstance(raw, dict) and "message" in raw:
        message = c.template((*where, "message"), raw["message"])
    policy = read_approvals(c, where, raw)
    c.earlier[common["id"]] = StepInfo("approval")
    return ApprovalStep(**common, approvals=policy, message=message)


def _wait(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    where = (*path, "wait")
    body = c.f.mapping(where, data["wait"], _WAIT_KEYS, required=("query", "until", "timeout"))
    query = c.query((*where, "query"), body["query"])
    names = (*_QUERY_VALUES, "elapsed")
    until = c.expression((*where, "until"), body["until"], values=names)
    fail_if = None
    if body.get("fail_if") is not None:
        fail_if = c.expression((*where, "fail_if"), body["fail_if"], values=names)
    every = c.f.duration((*where, "every"), body.get("every", "5s"))
    timeout = c.f.duration((*where, "timeout"), body["timeout"])
    if timeout > MAX_WAIT:
        raise c.fail((*where, "timeout"), "a wait may last at most 24 hours.")
    if every > timeout:
        raise c.fail((*where, "every"), "the polling interval is longer than the timeout.")
    on_fail = "abort"
    if "on_fail" in body:
        on_fail = c.f.choice(
            (*where, "on_fail"), body["on_fail"], ("abort", "continue", "rollback"), what="on_fail"
        )
    c.earlier[common["id"]] = StepInfo("wait", query.listing)
    return WaitStep(
        **common,
        query=query,
        until=until,
        every=every,
        timeout=timeout,
        fail_if=fail_if,
        on_fail=on_fail,  # type: ignore[arg-type]
    )


def _notify(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], _: IncludeLoader
) -> Step:
    where = (*path, "notify")
    body = c.f.mapping(
        where, data["notify"], ("webhook", "message"), required=("webhook", "message")
    )
    webhook = c.f.string(
        (*where, "webhook"), body["webhook"], pattern=_WEBHOOK, what="a webhook name"
    )
    if c.webhooks is not None and webhook not in c.webhooks:
        known = ", ".join(sorted(c.webhooks)) or "none"
        raise c.fail(
            (*where, "webhook"),
            f"no webhook named {webhook!r} is configured{did_you_mean(webhook, c.webhooks)}; "
            f"configured: {known}.",
        )
    message = c.template((*where, "message"), c.f.string((*where, "message"), body["message"]))
    c.earlier[common["id"]] = StepInfo("notify")
    return NotifyStep(**common, webhook=webhook, message=message)


def _include(
    c: Checker, path: FieldPath, data: dict[str, Any], common: dict[str, Any], load: IncludeLoader
) -> Step:
    where = (*path, "include")
    body, file_path = _short_form(c, where, data["include"], "file", ("inputs",))
    resolved, playbook = load(file_path, c.f.string(file_path, body["file"]))
    given = c.f.mapping((*where, "inputs"), body.get("inputs", {}), ANY_KEY)
    inputs: dict[str, Any] = {}
    for name, value in given.items():
        at = (*where, "inputs", name)
        spec = playbook.inputs.get(name)
        if spec is None:
            declared = ", ".join(playbook.inputs) or "none"
            raise c.fail(
                at,
                f"the playbook {playbook.name!r} has no input {name!r}"
                f"{did_you_mean(name, playbook.inputs)}; its inputs: {declared}.",
                at_key=True,
            )
        inputs[name] = c.value(at, value)
        if not isinstance(inputs[name], Template):
            inputs[name] = convert_input(spec, inputs[name], str(c.f.loaded.where(at)))
    for name, spec in playbook.inputs.items():
        if spec.required and name not in inputs:
            raise c.fail(
                where, f"the included playbook {playbook.name!r} needs the input {name!r}."
            )
    c.earlier[common["id"]] = StepInfo("include")
    return IncludeStep(**common, file=resolved, playbook=playbook, inputs=inputs)


_READERS: Mapping[
    str, Callable[[Checker, FieldPath, dict[str, Any], dict[str, Any], IncludeLoader], Step]
] = {
    "query": _query,
    "action": _action,
    "note": _note,
    "status": _status,
    "approval": _approval,
    "wait": _wait,
    "notify": _notify,
    "include": _include,
}


# -- action details ----------------------------------------------------------------------------


def _action_spec(c: Checker, path: FieldPath, name: str) -> ActionSpec | None:
    if c.profile is None:
        return None
    spec = c.profile.actions.get(name)
    if spec is None:
        known = ", ".join(c.profile.actions) or "none"
        raise c.fail(
            path,
            f"unknown action {name!r}{did_you_mean(name, c.profile.actions)}.",
            hint=f"The profile {c.profile.name!r} has: {known}.",
        )
    return spec


def _targets(c: Checker, path: FieldPath, value: Any, spec: ActionSpec | None) -> Targets:
    location = c.f.loaded.where(path)
    if isinstance(value, list):
        value = {"ids": value}
    elif isinstance(value, str):
        value = {"from": value}
    data = c.f.mapping(path, value, (*_TARGET_SOURCES, "column"))
    sources = [key for key in _TARGET_SOURCES if key in data]
    if len(sources) != 1:
        raise c.fail(path, "give exactly one target source: ids, file, from or query.")
    source = sources[0]
    if "column" in data and source != "file":
        raise c.fail((*path, "column"), "column applies to a file source only.", at_key=True)
    where = (*path, source)
    if source == "ids":
        raw = data["ids"]
        if not isinstance(raw, list) or not raw:
            raise c.fail(where, "expected a non-empty list of ids.")
        if len(raw) > _MAX_INLINE_IDS:
            raise c.fail(
                where,
                f"more than {_MAX_INLINE_IDS} inline ids.",
                hint="Put large target lists in an ids file (targets: {file: ids.txt}).",
            )
        ids = tuple(c.template((*where, i), c.f.string((*where, i), v)) for i, v in enumerate(raw))
        return Targets("ids", location, ids=ids)
    if source == "file":
        file = c.template(where, c.f.string(where, data["file"]))
        column = (
            None if data.get("column") is None else c.f.string((*path, "column"), data["column"])
        )
        base = Path(c.f.loaded.source).parent
        return Targets("file", location, file=file, column=column, base=base)
    if source == "query":
        query = c.query(where, data["query"])
        _same_kind(c, where, spec, query.listing)
        return Targets("query", location, query=query)
    return Targets("from", location, reference=_from(c, where, data["from"], spec))


def _from(c: Checker, path: FieldPath, value: Any, spec: ActionSpec | None) -> Template:
    text = c.f.string(path, value).strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    parts = text.split(".")
    if parts[0] == "steps" and len(parts) == 3 and parts[2] != "ids":
        raise c.fail(path, f"targets come from a step's ids: write steps.{parts[1]}.ids.")
    template = c.template(path, "${" + text + "}")
    if not isinstance(template, Template) or not (
        (parts[0] == "steps" and len(parts) == 3) or (parts[0] == "inputs" and len(parts) == 2)
    ):
        raise c.fail(path, "write from: steps.ID.ids or from: inputs.NAME.")
    if parts[0] == "steps":
        info = c.earlier[parts[1]]
        if info.kind not in ("query", "action", "wait"):
            raise c.fail(path, f"the {info.kind} step {parts[1]!r} produces no ids.")
        _same_kind(c, path, spec, info.listing)
    else:
        kind = c.input_types.get(parts[1])
        if kind not in ("list", "string"):
            raise c.fail(
                path, f"the input {parts[1]!r} is a {kind}; targets need a list or string."
            )
    return template


def _same_kind(c: Checker, path: FieldPath, spec: ActionSpec | None, listing: str | None) -> None:
    if spec is None or not spec.target_kind or listing is None or listing == spec.target_kind:
        return
    raise c.fail(
        path,
        f"the action {spec.name!r} takes {spec.target_kind} ids, but these are {listing} ids.",
    )


def _params(c: Checker, path: FieldPath, value: Any, spec: ActionSpec | None) -> dict[str, Any]:
    data = c.f.mapping(path, value, ANY_KEY)
    params = {name: c.value((*path, name), raw) for name, raw in data.items()}
    if spec is None:
        return params
    specs = dict(spec.param_specs)
    for name in params:
        if name not in specs:
            declared = ", ".join(specs) or "none"
            raise c.fail(
                (*path, name),
                f"the action {spec.name!r} takes no parameter {name!r}"
                f"{did_you_mean(name, specs)}; its parameters: {declared}.",
                at_key=True,
            )
    for name, param in specs.items():
        if param.required and name not in params:
            raise c.fail(path, f"the action {spec.name!r} needs the parameter {name!r}.")
        given = params.get(name)
        if name in params and not isinstance(given, Template):
            _check_param(c, (*path, name), spec.name, param.type, param.choices, given)
    return params


def _check_param(
    c: Checker, path: FieldPath, action: str, kind: str, choices: tuple[Any, ...], value: Any
) -> None:
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }.get(kind, True)
    if not ok:
        expected = {"integer": "an integer", "boolean": "true or false"}.get(kind, f"a {kind}")
        plain = c.f.loaded.plain_scalars.get(path)
        hint = None
        if plain is not None and kind == "string":
            hint = (
                f"YAML reads the unquoted {plain} as a {type(value).__name__}; quote it: '{plain}'."
            )
        raise c.fail(
            path, f"the parameter of {action!r} must be {expected}, got {value!r}.", hint=hint
        )
    if choices and value not in choices:
        listed = ", ".join(str(x) for x in choices)
        raise c.fail(path, f"must be one of {listed}, got {value!r}.")


def _controls(
    c: Checker, path: FieldPath, data: dict[str, Any], spec: ActionSpec | None
) -> Controls:
    f = c.f
    values: dict[str, Any] = {}
    if data.get("batch") is not None:
        batch = f.integer((*path, "batch"), data["batch"], minimum=1)
        if spec is not None:
            if spec.batch is None:
                raise c.fail((*path, "batch"), f"the action {spec.name!r} has no batch endpoint.")
            if batch > spec.batch.max_size:
                raise c.fail(
                    (*path, "batch"),
                    f"the action {spec.name!r} takes at most {spec.batch.max_size} ids a batch.",
                )
        values["batch"] = batch
    if data.get("concurrency") is not None:
        values["concurrency"] = f.integer(
            (*path, "concurrency"), data["concurrency"], minimum=1, maximum=1024
        )
    if data.get("rate") is not None:
        values["rate"] = f.number((*path, "rate"), data["rate"], positive=True)
    if data.get("retries") is not None:
        values["retries"] = f.integer((*path, "retries"), data["retries"], minimum=0, maximum=100)
    if data.get("timeout") is not None:
        values["timeout"] = f.duration((*path, "timeout"), data["timeout"])
    if data.get("max_targets") is not None:
        values["max_targets"] = f.integer((*path, "max_targets"), data["max_targets"], minimum=1)
    if data.get("max_failure_ratio") is not None:
        ratio = f.number((*path, "max_failure_ratio"), data["max_failure_ratio"])
        if ratio > 1:
            raise c.fail((*path, "max_failure_ratio"), f"must be between 0 and 1, got {ratio:g}.")
        values["max_failure_ratio"] = ratio
    return Controls(**values)


def _canary(c: Checker, path: FieldPath, value: Any) -> Canary:
    data = c.f.mapping(path, value, _CANARY_KEYS, required=("check",))
    if ("first" in data) == ("percent" in data):
        raise c.fail(path, "give exactly one of first (targets) and percent.")
    first = percent = None
    if "first" in data:
        first = c.f.integer((*path, "first"), data["first"], minimum=1)
    else:
        percent = c.f.number((*path, "percent"), data["percent"], positive=True)
        if percent > 100:
            raise c.fail((*path, "percent"), f"must be at most 100, got {percent:g}.")
    query = None
    names: tuple[str, ...] = _CANARY_VALUES
    if data.get("query") is not None:
        query = c.query((*path, "query"), data["query"])
        names = (*names, *_QUERY_VALUES)
    check = c.expression((*path, "check"), data["check"], values=names)
    on_fail = "abort"
    if "on_fail" in data:
        on_fail = c.f.choice(
            (*path, "on_fail"), data["on_fail"], ("pause", "abort"), what="on_fail"
        )
    settle = 0.0
    if "settle" in data:
        settle = c.f.duration((*path, "settle"), data["settle"], positive=False)
    return Canary(
        check=check,
        location=c.f.loaded.where(path),
        first=first,
        percent=percent,
        query=query,
        settle=settle,
        on_fail=on_fail,  # type: ignore[arg-type]
    )
