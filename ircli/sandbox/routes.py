"""The sandbox's endpoints: one small handler each, and the table the dispatcher routes by.

Handlers are synchronous: the dispatcher calls them between awaits, so every request sees and
changes the platform atomically. A handler returns ``(status, payload)`` where the payload is
a JSON-able object or pre-encoded bytes, and raises ``BadRequest`` for a 422.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ircli.errors import InvalidInput
from ircli.sandbox.faults import faults_from_mapping
from ircli.sandbox.platform import (
    NOT_FOUND,
    STATUS_NAMES,
    ActionResult,
    Platform,
    account_index,
    parse_index,
    stream_index,
)
from ircli.sandbox.score import score, truth
from ircli.sandbox.views import (
    BadRequest,
    iso,
    list_accounts,
    list_reports,
    list_streams,
    render_account,
    render_stream,
    world_summary,
)

if TYPE_CHECKING:
    from ircli.sandbox.app import SandboxApp

__all__ = ["ROUTES", "Call", "Route"]

Reply = tuple[int, Any]


class Call:
    """One request as a handler sees it."""

    __slots__ = ("body", "now", "params", "query_string")

    def __init__(self, params: list[str], query_string: bytes, body: bytes, now: float) -> None:
        self.params = params
        self.query_string = query_string
        self.body = body
        self.now = now

    def query(self) -> dict[str, str]:
        """The query parameters (the last value wins)."""
        return dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))

    def json(self) -> Any:
        """The JSON body (``None`` when empty)."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the request body is not valid JSON.", "invalid_json") from None


Handler = Callable[["SandboxApp", Call], Reply]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path pattern (``{name}`` segments), handler, required scope."""

    method: str
    path: str
    handler: Handler
    scope: str | None
    summary: str

    @property
    def segments(self) -> tuple[str, ...]:
        """The path split on ``/`` (with the leading empty segment)."""
        return tuple(self.path.split("/"))

    @property
    def mutating(self) -> bool:
        """Whether the route changes state (and so honours ``Idempotency-Key``)."""
        return self.method != "GET"

    @property
    def api(self) -> bool:
        """Whether the route is part of the platform API (counted, subject to faults)."""
        return self.path.startswith("/api/")


def _error(status: int, code: str, message: str, **extra: object) -> Reply:
    return status, {"error": {"code": code, "message": message, **extra}}


_MESSAGES = {
    "not_found": "no such object.",
    "stream_ended": "the stream has ended and cannot change.",
    "account_frozen": "the stream's account is frozen.",
    "live_streaming_disabled": "live streaming is switched off for the stream's account.",
}

# -- items and actions ---------------------------------------------------------------------
# Action answers are assembled from cached JSON fragments: at 100,000+ ids per second the
# generic encoder is a third of the cost. Ids that parsed are canonical ASCII (``str_0000042``);
# anything else a client sent is JSON-escaped.

_suffixes: dict[tuple[str, str | None], str] = {}


def _suffix(outcome: ActionResult, status: str | None) -> str:
    cached = _suffixes.get((outcome.result, status))
    if cached is None:
        fields: dict[str, object] = {
            "ok": outcome.ok,
            "result": outcome.result,
            "changed": outcome.changed,
            "status": status,
        }
        cached = "," + json.dumps(fields, separators=(",", ":"))[1:-1]
        if not outcome.extra:
            _suffixes[(outcome.result, status)] = cached
    if outcome.extra:
        extra = json.dumps(dict(outcome.extra), separators=(",", ":"))[1:-1]
        return f"{cached},{extra}"
    return cached


def _item(ident: str, index: int, outcome: ActionResult, status: str | None) -> str:
    quoted = f'"{ident}"' if index >= 0 else json.dumps(ident)
    return '{"id":' + quoted + _suffix(outcome, status) + "}"


def _single(item: str, outcome: ActionResult) -> Reply:
    if outcome.ok:
        return 200, item.encode()
    message = _MESSAGES.get(outcome.result, "refused.")
    error = json.dumps({"code": outcome.result, "message": message}, separators=(",", ":"))
    return outcome.http_status, ('{"error":' + error + "," + item[1:]).encode()


def _batch(items: list[str], changed: int, failed: int) -> Reply:
    summary = (
        f'"summary":{{"requested":{len(items)},"changed":{changed},'
        f'"unchanged":{len(items) - changed - failed},"failed":{failed}}}}}'
    )
    return 200, ('{"results":[' + ",".join(items) + "]," + summary).encode()


StreamAction = Callable[[Platform, int, float], ActionResult]
STREAM_ACTIONS: dict[str, StreamAction] = {
    "suspend": Platform.suspend_stream,
    "resume": Platform.resume_stream,
}
ACCOUNT_ACTIONS: dict[str, StreamAction] = {
    "freeze": Platform.freeze_account,
    "unfreeze": Platform.unfreeze_account,
    "reset-password": Platform.reset_password,
    "revoke-sessions": Platform.revoke_sessions,
}
_STREAM_STATUS: tuple[str | None, ...] = (*STATUS_NAMES, None)
_ACCOUNT_STATUS: tuple[str | None, ...] = ("active", "frozen", None)


def _check_action_body(call: Call) -> None:
    if call.body and call.body.strip():
        body = call.json()
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object.")


def _batch_ids(app: SandboxApp, call: Call) -> list[str]:
    body = call.json()
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest('the body must be a JSON object {"ids": [...]} with string ids.')
    if not 1 <= len(ids) <= app.platform.config.max_batch:
        raise BadRequest(
            f"a batch holds 1 to {app.platform.config.max_batch} ids, got {len(ids)}.",
            "batch_size",
        )
    return ids


def _summary(items: list[dict[str, Any]]) -> dict[str, int]:
    changed = sum(1 for i in items if i["changed"])
    failed = sum(1 for i in items if not i["ok"])
    return {
        "requested": len(items),
        "changed": changed,
        "unchanged": len(items) - changed - failed,
        "failed": failed,
    }


def _run_actions(
    app: SandboxApp, call: Call, idents: list[str], action: str, streams: bool
) -> tuple[list[str], int, int, ActionResult]:
    platform = app.platform
    world = platform.world
    if streams:
        perform, prefix, limit = STREAM_ACTIONS[action], "str_", world.stream_count
        states, names = world.s_status, _STREAM_STATUS
    else:
        perform, prefix, limit = ACCOUNT_ACTIONS[action], "acc_", world.account_count
        states, names = world.acc_frozen, _ACCOUNT_STATUS
    now = call.now
    items = []
    changed = failed = 0
    outcome = NOT_FOUND
    for ident in idents:
        index = parse_index(ident, prefix, limit)
        outcome = perform(platform, index, now)
        changed += outcome.changed
        failed += outcome.http_status >= 400
        items.append(_item(ident, index, outcome, names[states[index] if index >= 0 else -1]))
    return items, changed, failed, outcome


def object_action(action: str, *, streams: bool) -> Handler:
    """The handler for ``POST /api/v1/{streams,accounts}/{id}/<action>``."""

    def handle(app: SandboxApp, call: Call) -> Reply:
        _check_action_body(call)
        items, _changed, _failed, outcome = _run_actions(
            app, call, call.params[:1], action, streams
        )
        return _single(items[0], outcome)

    return handle


def batch_action(action: str, *, streams: bool) -> Handler:
    """The handler for ``POST /api/v1/{streams,accounts}/batch/<action>``."""

    def handle(app: SandboxApp, call: Call) -> Reply:
        items, changed, failed, _last = _run_actions(
            app, call, _batch_ids(app, call), action, streams
        )
        return _batch(items, changed, failed)

    return handle


# -- reads ---------------------------------------------------------------------------------


def get_stream(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/streams/{id}``."""
    index = stream_index(app.platform.world, call.params[0])
    if index < 0:
        return _error(404, "not_found", "no such stream.")
    return 200, render_stream(app.platform, index)


def get_account(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/accounts/{id}``."""
    index = account_index(app.platform.world, call.params[0])
    if index < 0:
        return _error(404, "not_found", "no such account.")
    return 200, render_account(app.platform, index)


def get_streams(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/streams``."""
    return 200, list_streams(app.platform, call.query())


def get_accounts(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/accounts``."""
    return 200, list_accounts(app.platform, call.query())


def get_reports(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/reports``."""
    return 200, list_reports(app.platform, call.query())


# -- link domains --------------------------------------------------------------------------

_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")


def _domain(text: str) -> str:
    domain = text.strip().lower()
    if not _DOMAIN.match(domain):
        raise BadRequest(f"{text[:60]!r} is not a domain name.", "invalid_domain")
    return domain


def get_domains(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/link-domains``: every domain linked from a stream, with live counts."""
    world = app.platform.world
    live = [0] * len(world.domains)
    total = [0] * len(world.domains)
    status = world.s_status
    for stream, domain in enumerate(world.s_domain):
        if domain >= 0:
            total[domain] += 1
            live[domain] += status[stream] == 0
    items = [
        {
            "domain": name,
            "streams": total[index],
            "live_streams": live[index],
            "blocked": name in app.platform.blocklist,
        }
        for index, name in enumerate(world.domains)
    ]
    return 200, {"items": items, "next_cursor": None}


def get_blocklist(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/link-domains/blocklist``."""
    items = [{"domain": d, "added_at": iso(t)} for d, t in app.platform.blocklist.items()]
    return 200, {"items": items, "next_cursor": None}


def put_blocklist(app: SandboxApp, call: Call) -> Reply:
    """``PUT /api/v1/link-domains/blocklist/{domain}``."""
    domain = _domain(call.params[0])
    changed = app.platform.block_domain(domain, call.now)
    result = "blocked" if changed else "already_blocked"
    return 200, {
        "domain": domain,
        "ok": True,
        "result": result,
        "changed": changed,
        "blocked": True,
    }


def delete_blocklist(app: SandboxApp, call: Call) -> Reply:
    """``DELETE /api/v1/link-domains/blocklist/{domain}``."""
    domain = _domain(call.params[0])
    changed = app.platform.unblock_domain(domain)
    result = "unblocked" if changed else "not_blocked"
    return 200, {
        "domain": domain,
        "ok": True,
        "result": result,
        "changed": changed,
        "blocked": False,
    }


def post_blocklist(app: SandboxApp, call: Call) -> Reply:
    """``POST /api/v1/link-domains/blocklist``: block several domains at once."""
    body = call.json()
    domains = body.get("domains") if isinstance(body, dict) else None
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise BadRequest('the body must be a JSON object {"domains": [...]} with strings.')
    if not 1 <= len(domains) <= app.platform.config.max_batch:
        raise BadRequest(f"a batch holds 1 to {app.platform.config.max_batch} domains.")
    items = []
    for text in domains:
        try:
            domain = _domain(text)
        except BadRequest:
            items.append(
                {"domain": text, "ok": False, "result": "invalid_domain", "changed": False}
            )
            continue
        changed = app.platform.block_domain(domain, call.now)
        result = "blocked" if changed else "already_blocked"
        items.append({"domain": domain, "ok": True, "result": result, "changed": changed})
    return 200, {"results": items, "summary": _summary(items)}


# -- flags ---------------------------------------------------------------------------------


def _render_flag(app: SandboxApp, name: str) -> dict[str, Any]:
    flag = app.platform.flags[name]
    return {
        "name": name,
        "description": flag.description,
        "enabled": flag.enabled,
        "rollout_percent": flag.rollout_percent,
        "updated_at": iso(flag.updated_at),
    }


def get_flags(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/flags``."""
    return 200, {"items": [_render_flag(app, n) for n in app.platform.flags], "next_cursor": None}


def get_flag(app: SandboxApp, call: Call) -> Reply:
    """``GET /api/v1/flags/{name}``."""
    if call.params[0] not in app.platform.flags:
        return _error(404, "not_found", "no such flag.")
    return 200, _render_flag(app, call.params[0])


def put_flag(app: SandboxApp, call: Call) -> Reply:
    """``PUT /api/v1/flags/{name}``: set ``enabled`` and/or ``rollout_percent`` (0-100)."""
    name = call.params[0]
    if name not in app.platform.flags:
        return _error(404, "not_found", "no such flag.")
    body = call.json()
    if not isinstance(body, dict) or not body or set(body) - {"enabled", "rollout_percent"}:
        raise BadRequest('the body must be {"enabled": bool, "rollout_percent": 0-100} (either).')
    enabled = body.get("enabled")
    rollout = body.get("rollout_percent")
    if enabled is not None and not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false.")
    if rollout is not None and (
        isinstance(rollout, bool) or not isinstance(rollout, int) or not 0 <= rollout <= 100
    ):
        raise BadRequest("rollout_percent must be an integer from 0 to 100.")
    _flag, changed = app.platform.set_flag(name, enabled, rollout, call.now)
    return 200, {**_render_flag(app, name), "ok": True, "changed": changed}


# -- control -------------------------------------------------------------------------------


def healthz(app: SandboxApp, call: Call) -> Reply:
    """``GET /healthz``."""
    return 200, {"status": "ok"}


def openapi(app: SandboxApp, call: Call) -> Reply:
    """``GET /openapi.json``."""
    from ircli.sandbox.openapi import openapi_document

    return 200, openapi_document()


def get_score(app: SandboxApp, call: Call) -> Reply:
    """``GET /_sandbox/score``."""
    return 200, score(app.platform, call.now)


def get_truth(app: SandboxApp, call: Call) -> Reply:
    """``GET /_sandbox/truth``."""
    return 200, truth(app.platform)


_RESET_BODY = (
    'the body must be {"seed": int, "bot_rate": number, "attack_start_seconds": number or null}'
    " (each optional)."
)


def post_reset(app: SandboxApp, call: Call) -> Reply:
    """``POST /_sandbox/reset``: a fresh world (optionally another seed, bot rate or attack
    start; what is not given stays as it was)."""
    body = call.json() or {}
    if not isinstance(body, dict) or set(body) - {"seed", "bot_rate", "attack_start_seconds"}:
        raise BadRequest(_RESET_BODY)
    changes: dict[str, Any] = {}
    if "seed" in body:
        if isinstance(body["seed"], bool) or not isinstance(body["seed"], int):
            raise BadRequest("seed must be an integer.")
        changes["seed"] = body["seed"]
    if "bot_rate" in body:
        rate = body["bot_rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            raise BadRequest("bot_rate must be a non-negative number.")
        changes["bot_rate"] = float(rate)
    if "attack_start_seconds" in body:
        start = body["attack_start_seconds"]
        if start is not None and (isinstance(start, bool) or not isinstance(start, int | float)):
            raise BadRequest("attack_start_seconds must be a number of seconds or null.")
        changes["attack_start_seconds"] = None if start is None else float(start)
    config = dataclasses.replace(app.platform.config, **changes)
    try:
        config.validate()
    except InvalidInput as exc:
        raise BadRequest(exc.message) from None
    app.reset(config, now=call.now)
    return 200, {"seed": app.platform.config.seed, **world_summary(app.platform.world)}


def get_faults(app: SandboxApp, call: Call) -> Reply:
    """``GET /_sandbox/faults``."""
    return 200, {"faults": app.faults.config.to_spec()}


def put_faults(app: SandboxApp, call: Call) -> Reply:
    """``PUT /_sandbox/faults``: replace the fault settings (``{}`` clears them)."""
    body = call.json()
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object of fault settings.")
    try:
        config = faults_from_mapping(body)
    except InvalidInput as exc:
        raise BadRequest(exc.message, "invalid_faults") from None
    app.faults.configure(config, now=call.now)
    return 200, {"faults": config.to_spec()}


def _routes() -> tuple[Route, ...]:
    routes = [
        Route("GET", "/healthz", healthz, None, "Readiness probe."),
        Route("GET", "/openapi.json", openapi, None, "This API as an OpenAPI 3.1 document."),
        Route("GET", "/api/v1/streams", get_streams, "read", "List live streams."),
        Route("GET", "/api/v1/streams/{id}", get_stream, "read", "Get one stream."),
    ]
    for action in STREAM_ACTIONS:
        routes.append(
            Route(
                "POST",
                f"/api/v1/streams/batch/{action}",
                batch_action(action, streams=True),
                "streams",
                f"Batch {action}: per-id results.",
            )
        )
        routes.append(
            Route(
                "POST",
                f"/api/v1/streams/{{id}}/{action}",
                object_action(action, streams=True),
                "streams",
                f"{action.capitalize()} one stream.",
            )
        )
    routes += [
        Route("GET", "/api/v1/accounts", get_accounts, "read", "List accounts."),
        Route("GET", "/api/v1/accounts/{id}", get_account, "read", "Get one account."),
    ]
    for action in ACCOUNT_ACTIONS:
        routes.append(
            Route(
                "POST",
                f"/api/v1/accounts/batch/{action}",
                batch_action(action, streams=False),
                "accounts",
                f"Batch {action}: per-id results.",
            )
        )
        routes.append(
            Route(
                "POST",
                f"/api/v1/accounts/{{id}}/{action}",
                object_action(action, streams=False),
                "accounts",
                f"{action.capitalize()} one account.",
            )
        )
    routes += [
        Route("GET", "/api/v1/reports", get_reports, "read", "List user reports (the queue)."),
        Route("GET", "/api/v1/link-domains", get_domains, "read", "Linked domains and counts."),
        Route("GET", "/api/v1/link-domains/blocklist", get_blocklist, "read", "The blocklist."),
        Route("POST", "/api/v1/link-domains/blocklist", post_blocklist, "domains", "Block many."),
        Route("PUT", "/api/v1/link-domains/blocklist/{domain}", put_blocklist, "domains", "Block."),
        Route(
            "DELETE",
            "/api/v1/link-domains/blocklist/{domain}",
            delete_blocklist,
            "domains",
            "Unblock.",
        ),
        Route("GET", "/api/v1/flags", get_flags, "read", "List feature flags."),
        Route("GET", "/api/v1/flags/{name}", get_flag, "read", "Get one flag."),
        Route("PUT", "/api/v1/flags/{name}", put_flag, "flags", "Set a flag (kill switch)."),
        Route("GET", "/_sandbox/score", get_score, "admin", "The drill's score."),
        Route("GET", "/_sandbox/truth", get_truth, "admin", "The ground truth."),
        Route("POST", "/_sandbox/reset", post_reset, "admin", "Re-seed the world."),
        Route("GET", "/_sandbox/faults", get_faults, "admin", "The fault settings."),
        Route("PUT", "/_sandbox/faults", put_faults, "admin", "Replace the fault settings."),
    ]
    return tuple(routes)


ROUTES = _routes()
