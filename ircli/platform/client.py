"""The HTTP side of a platform: one pooled ``httpx.AsyncClient`` per run.

``PlatformClient.send`` turns a ``PreparedRequest`` into a ``Reply`` and every transport
problem into a ``TransportFailure`` with a kind the executor can reason about:

* ``timeout``  — the request may or may not have reached the platform (ambiguous);
* ``connect``  — it never left (safe to resend);
* ``protocol`` — the connection broke mid-exchange (ambiguous).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx

from ircli.platform.bodies import parse_json
from ircli.platform.render import PreparedRequest

__all__ = ["PlatformClient", "Reply", "TransportFailure"]


@dataclass(frozen=True)
class Reply:
    """A platform's answer, with the JSON body decoded when there is one."""

    status: int
    headers: Mapping[str, str]
    body: Any


class TransportFailure(Exception):
    """No HTTP response was obtained."""

    def __init__(self, kind: Literal["timeout", "connect", "protocol"], detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def ambiguous(self) -> bool:
        """Whether the platform may have acted on the request."""
        return self.kind != "connect"


class PlatformClient:
    """Sends prepared requests to one platform.

    Requests are ``httpx.Request`` objects handed straight to an httpx transport (by default
    ``FastTransport``; tests pass ``httpx.MockTransport``): the per-request work of
    ``httpx.AsyncClient`` (URL merging, cookies, hooks) is skipped on the hot path. ``http``
    is a regular ``httpx.AsyncClient`` over the same transport, for listings.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        max_connections: int,
        idempotency_header: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        from ircli.platform.transport import FastTransport

        self.idempotency_header = idempotency_header
        self._base = base_url.rstrip("/")
        self._headers = {"user-agent": "ircli", "accept": "application/json", **headers}
        self._timeouts = {
            "connect": connect_timeout,
            "read": timeout,
            "write": timeout,
            "pool": timeout,
        }
        self._transport = transport or FastTransport(max_connections=max_connections)
        self._fast = _FastPath.for_transport(self._transport, self._base, self._headers)
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers=self._headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=self._transport,
            follow_redirects=False,
        )

    async def send(self, request: PreparedRequest, idempotency_key: str | None = None) -> Reply:
        """Send one request; raise ``TransportFailure`` when no response came back."""
        if self._fast is not None:
            return await self._fast.send(
                request,
                idempotency_key if self.idempotency_header else None,
                self.idempotency_header,
                self._timeouts,
            )
        headers = self._headers
        if idempotency_key and self.idempotency_header:
            headers = {**headers, self.idempotency_header: idempotency_key}
        outgoing = httpx.Request(
            request.method,
            self._base + request.path,
            params=dict(request.query) or None,
            json=request.json,
            data=dict(request.form) if request.form is not None else None,
            headers=headers,
            extensions={"timeout": self._timeouts},
        )
        with transport_failures():
            response = await self._transport.handle_async_request(outgoing)
            content = await response.aread()
        return Reply(response.status_code, response.headers, _decode(content))

    async def aclose(self) -> None:
        await self.http.aclose()
        await self._transport.aclose()

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


class _FastPath:
    """``FastTransport`` without httpx objects: requests serialised here, bytes back.

    Builds exactly what httpx would send for these requests (same method, target, headers and
    JSON body), so the platform cannot tell the paths apart; tests and other transports go
    through ``httpx.Request``.
    """

    def __init__(self, transport: Any, base: httpx.URL, headers: Mapping[str, str]) -> None:
        self._transport = transport
        port = base.port or (443 if base.scheme == "https" else 80)
        self._origin = (base.scheme, base.host, port)
        self._prefix = base.raw_path.rstrip(b"/")
        host = base.netloc
        lines = [b"Host: " + host]
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
        self._header_block = b"\r\n".join(lines)

    @classmethod
    def for_transport(
        cls, transport: Any, base_url: str, headers: Mapping[str, str]
    ) -> _FastPath | None:
        from ircli.platform.transport import FastTransport

        if type(transport) is not FastTransport:
            return None
        return cls(transport, httpx.URL(base_url), headers)

    async def send(
        self,
        request: PreparedRequest,
        idempotency_key: str | None,
        idempotency_header: str | None,
        timeouts: Mapping[str, float],
    ) -> Reply:
        target = self._prefix + quote(request.path, safe="/%:@!$&'()*+,;=-._~").encode("ascii")
        if request.query:
            target += b"?" + urlencode(_query_values(request.query), doseq=True).encode("ascii")
        extra = []
        body = b""
        if request.json is not None:
            body = json.dumps(request.json, separators=(",", ":"), ensure_ascii=False).encode()
            extra.append(b"Content-Type: application/json")
        elif request.form is not None:
            body = urlencode(request.form, doseq=True).encode("ascii")
            extra.append(b"Content-Type: application/x-www-form-urlencoded")
        if body or request.method in ("POST", "PUT", "PATCH"):
            extra.append(b"Content-Length: " + str(len(body)).encode())
        if idempotency_key and idempotency_header:
            extra.append(f"{idempotency_header}: {idempotency_key}".encode("latin-1"))
        head = request.method.encode("ascii") + b" " + target + b" HTTP/1.1\r\n"
        payload = head + self._header_block + b"".join(b"\r\n" + e for e in extra)
        payload += b"\r\n\r\n" + body
        with transport_failures():
            status, raw_headers, content = await self._transport.exchange(
                self._origin, payload, timeouts.get("connect"), timeouts.get("read")
            )
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw_headers
        }
        return Reply(status, headers, _decode(content))


def _query_values(query: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as httpx would send them: ``true``/``false``, and empty for ``None``."""

    def text(value: Any) -> Any:
        if value is True or value is False:
            return "true" if value else "false"
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            return [text(item) for item in value]
        return value

    return {key: text(value) for key, value in query.items()}


@contextmanager
def transport_failures() -> Iterator[None]:
    """Turn httpx's transport exceptions into ``TransportFailure`` of the right kind."""
    try:
        yield
    except httpx.TimeoutException as exc:
        connect = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        kind: Literal["timeout", "connect"] = "connect" if connect else "timeout"
        raise TransportFailure(kind, str(exc) or "timed out") from None
    except httpx.ConnectError as exc:
        raise TransportFailure("connect", str(exc) or "connection refused") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise TransportFailure("protocol", str(exc) or type(exc).__name__) from None


def _decode(content: bytes) -> Any:
    if not content:
        return None
    try:
        return parse_json(content)  # bounded: past its limits it is no JSON to use
    except ValueError:
        return None
