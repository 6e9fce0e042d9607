"""The ASGI application: a lean dispatcher in front of the platform.

Starlette's routing and Request/Response objects cost more per request than the whole
suspend action, so the sandbox speaks ASGI directly: match the path against a small table,
check the bearer token, draw the faults, honour ``Idempotency-Key``, call one synchronous
handler and send one pre-sized JSON body. Each request runs between two awaits, so the platform
needs no locks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ircli.clock import Clock, system_clock
from ircli.sandbox.auth import DEFAULT_TOKEN, TokenRegistry
from ircli.sandbox.faults import (
    DROP_AFTER,
    DROP_BEFORE,
    NO_FAULT,
    PASS,
    UNAVAILABLE,
    FaultConfig,
    FaultInjector,
)
from ircli.sandbox.idempotency import IdempotencyStore
from ircli.sandbox.platform import Platform
from ircli.sandbox.routes import ROUTES, Call, Route
from ircli.sandbox.views import BadRequest
from ircli.sandbox.world import WorldConfig

__all__ = ["SandboxApp", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 1024 * 1024
_JSON = (b"content-type", b"application/json")
_encode = json.JSONEncoder(separators=(",", ":")).encode


def _body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else _encode(payload).encode()


def _error_body(code: str, message: str, **extra: object) -> bytes:
    return _body({"error": {"code": code, "message": message, **extra}})


_UNAUTHORIZED = _error_body("unauthorized", "a valid bearer token is required.")
_NOT_FOUND = _error_body("not_found", "no such endpoint.")
_NOT_ALLOWED = _error_body("method_not_allowed", "this endpoint does not take that method.")
_UNAVAILABLE = _error_body("unavailable", "the service is temporarily unavailable.")
_TOO_MANY = _error_body("rate_limited", "too many requests; retry after the time given.")
_TOO_LARGE = _error_body("body_too_large", "the request body is larger than 1 MiB.")
_BAD_KEY = _error_body("invalid_idempotency_key", "an Idempotency-Key has 1 to 255 characters.")
_KEY_REUSED = _error_body(
    "idempotency_key_reused", "this Idempotency-Key was used with a different request."
)
_WWW_AUTH = (b"www-authenticate", b'Bearer realm="ircli-sandbox"')
_REPLAYED = (b"idempotent-replayed", b"true")
_PARTIAL = b'{"id":"str_00'


class _Router:
    """Routes by (method, number of segments), static segments before parameters."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._table: dict[tuple[str, int], list[tuple[Route, tuple[int, ...], tuple[int, ...]]]]
        self._table = {}
        self._paths: dict[int, list[tuple[str, ...]]] = {}
        for route in sorted(routes, key=lambda r: r.path.count("{")):
            segments = route.segments
            static = tuple(i for i, s in enumerate(segments) if not s.startswith("{"))
            params = tuple(i for i, s in enumerate(segments) if s.startswith("{"))
            entry = (route, static, params)
            self._table.setdefault((route.method, len(segments)), []).append(entry)
            self._paths.setdefault(len(segments), []).append(segments)

    def match(self, method: str, parts: list[str]) -> tuple[Route | None, list[str], bool]:
        """The route, its parameters, and whether the path exists for another method."""
        for route, static, params in self._table.get((method, len(parts)), ()):
            segments = route.segments
            if all(parts[i] == segments[i] for i in static):
                return route, [parts[i] for i in params], False
        for segments in self._paths.get(len(parts), ()):
            if all(s.startswith("{") or s == p for s, p in zip(segments, parts, strict=True)):
                return None, [], True
        return None, [], False


class SandboxApp:
    """The sandbox platform as an ASGI application (``app.platform`` is its state)."""

    def __init__(
        self,
        config: WorldConfig | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        faults: FaultConfig | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        config = config or WorldConfig()
        now = clock().timestamp()
        self.platform = Platform(config, now=now)
        self.tokens = TokenRegistry(token)
        self.faults = FaultInjector(faults or FaultConfig(), seed=config.seed, now=now)
        self.idempotency = IdempotencyStore()
        self._router = _Router(ROUTES)
        self._sleep = asyncio.sleep

    def reset(self, config: WorldConfig, *, now: float) -> None:
        """Re-seed the world; forget idempotency keys; keep the fault settings."""
        self.platform.reset(config, now=now)
        self.idempotency.clear()
        self.faults.seed = config.seed
        self.faults.configure(self.faults.config, now=now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        parts = scope["path"].split("/")
        route, params, other_method = self._router.match(method, parts)
        if route is None:
            await _reply(
                send, 405 if other_method else 404, _NOT_ALLOWED if other_method else _NOT_FOUND
            )
            return
        token = key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if value[:7].lower() == b"bearer ":
                    token = value[7:].strip()
            elif name == b"idempotency-key":
                key = value
            elif name == b"x-api-token":
                token = value.strip()
        api = route.api
        counts = self.platform.requests
        if route.scope is not None:
            scopes = self.tokens.scopes(token.decode("latin-1")) if token else None
            if scopes is None:
                if api:
                    counts["401"] += 1
                await _reply(send, 401, _UNAUTHORIZED, (_WWW_AUTH,))
                return
            if route.scope not in scopes:
                if api:
                    counts["403"] += 1
                body = _error_body(
                    "insufficient_scope",
                    f"this token lacks the {route.scope} scope.",
                    required_scope=route.scope,
                )
                await _reply(send, 403, body)
                return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await _reply(send, 413, _TOO_LARGE)
                return
        decision = NO_FAULT
        if api:
            decision = self.faults.decide(self.clock().timestamp())
            if decision is not NO_FAULT:
                if decision.delay:
                    await self._sleep(decision.delay)
                if decision.outcome != PASS:
                    await self._refuse(send, decision.outcome, decision.retry_after)
                    return
                if decision.drop == DROP_BEFORE:
                    counts["dropped"] += 1
                    await _drop(send)
                    return
        status, payload, replayed = self._handle(route, method, scope, params, body, key)
        if api:
            if decision.drop == DROP_AFTER:
                counts["dropped"] += 1
                await _drop(send)
                return
            if decision.timeout:
                await self._sleep(self.faults.config.timeout_delay)
            counts[str(status)] += 1
        await _reply(send, status, payload, (_REPLAYED,) if replayed else ())

    def _handle(
        self,
        route: Route,
        method: str,
        scope: Scope,
        params: list[str],
        body: bytes,
        key: bytes | None,
    ) -> tuple[int, bytes, bool]:
        """Run the handler under the idempotency rules; ``(status, body, replayed)``."""
        now = self.clock().timestamp()
        platform = self.platform
        platform.advance(now)
        fingerprint: int | None = None
        if key is not None and route.mutating and route.api:
            if not 1 <= len(key) <= 255:
                return 422, _BAD_KEY, False
            fingerprint = hash((method, scope["path"], scope["query_string"], body))
            stored = self.idempotency.get(key)
            if stored is not None:
                if stored.fingerprint == fingerprint:
                    return stored.status, stored.body, True
                platform.duplicate_effects += 1
                return 422, _KEY_REUSED, False
        try:
            status, payload = route.handler(self, Call(params, scope["query_string"], body, now))
        except BadRequest as exc:
            status, payload = 422, {"error": {"code": exc.code, "message": exc.message}}
        encoded = _body(payload)
        if key is not None and fingerprint is not None and status != 429 and status < 500:
            self.idempotency.put(key, fingerprint, status, encoded)
        return status, encoded, False

    async def _refuse(self, send: Send, outcome: int, retry_after: float) -> None:
        counts = self.platform.requests
        if outcome == UNAVAILABLE:
            counts["503"] += 1
            await _reply(send, 503, _UNAVAILABLE)
            return
        counts["429"] += 1
        header = self.faults.retry_after_header(retry_after, self.clock().timestamp())
        await _reply(send, 429, _TOO_MANY, ((b"retry-after", header.encode()),))


async def _reply(
    send: Send, status: int, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    headers = [_JSON, (b"content-length", str(len(body)).encode())]
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Start a response and never finish it: the server then closes the connection."""
    headers = [_JSON, (b"content-length", b"512")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _PARTIAL, "more_body": True})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(
    config: WorldConfig | None = None,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultConfig | None = None,
    clock: Clock = system_clock,
) -> SandboxApp:
    """Generate the scenario's world and return the ASGI app serving it."""
    return SandboxApp(config, token=token, faults=faults, clock=clock)
