"""A lean HTTP/1.1 keep-alive transport for httpx, built for many small admin requests.

httpx's default async pool (httpcore) spends most of its time in pool bookkeeping once
dozens of requests are in flight (with it, ``make bench`` measured 201 actions/s; see "The
HTTP transport" in docs/runs.md).
This transport keeps the httpx API — it is an ``httpx.AsyncBaseTransport`` taking
``httpx.Request`` and returning ``httpx.Response`` — but manages connections itself: a
stack of idle keep-alive connections per origin, a semaphore for the connection limit, and
``httptools`` (the parser uvicorn uses) to read responses. No pipelining, no HTTP/2.

Errors are raised as the matching httpx exceptions (``ConnectError``, ``ConnectTimeout``,
``ReadTimeout``, ``RemoteProtocolError``), so callers cannot tell the transports apart.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httptools
import httpx

__all__ = ["FastTransport"]

_Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.status = 0
        self.keep_alive = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(httpx.RemoteProtocolError("the server closed the connection mid-response"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    async def exchange(self, payload: bytes, timeout: float | None) -> None:
        """Send a serialised request and wait for the complete response."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.headers, self.body, self.status = [], [], 0
        self._waiter = loop.create_future()
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, self._timed_out)
        self.transport.write(payload)
        try:
            await self._waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    def _timed_out(self) -> None:
        self._fail(httpx.ReadTimeout("no complete response before the read timeout"))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class FastTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive transport with at most ``max_connections`` per origin."""

    def __init__(self, max_connections: int = 32, ssl_context: ssl.SSLContext | None = None):
        self._max = max_connections
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._slots: dict[_Origin, asyncio.Semaphore] = {}
        self._all: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        port = url.port or (443 if scheme == "https" else 80)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        status, headers, body = await self.exchange(
            (scheme, url.host, port),
            _serialise(request),
            timeouts.get("connect"),
            timeouts.get("read"),
        )
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def exchange(
        self,
        origin: tuple[str, str, int],
        payload: bytes,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send an already serialised request; (status, raw headers, body).

        The hot path of ``PlatformClient``: it serialises requests itself and skips building
        ``httpx.Request`` / ``httpx.Response`` objects (their URL and header validation cost
        more than the rest of a request). Errors are the httpx exceptions, as above.
        """
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = asyncio.Semaphore(self._max)
        async with slots:
            connection = await self._checkout(origin, connect_timeout)
            try:
                await connection.exchange(payload, read_timeout)
            except BaseException:
                connection.close()
                self._all.discard(connection)
                raise
            if connection.keep_alive and connection.usable:
                self._idle.setdefault(origin, []).append(connection)
            else:
                connection.close()
                self._all.discard(connection)
        return connection.status, connection.headers, b"".join(connection.body)

    async def _checkout(self, origin: _Origin, connect_timeout: float | None) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            self._all.discard(connection)
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(_Connection, host, port, ssl=context),
                timeout=connect_timeout,
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc.strerror}") from None
        self._all.add(protocol)
        return protocol

    async def aclose(self) -> None:
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()


def _serialise(request: httpx.Request) -> bytes:
    url = request.url
    target = url.raw_path
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    lines.extend(name + b": " + value for name, value in request.headers.raw)
    body = request.content
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
