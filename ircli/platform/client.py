"""The HTTP side of a platform: one aiohttp session per run, httpx as the API for reads.

``PlatformClient.send`` turns a ``PreparedRequest`` into a ``Reply`` and every transport
problem into a ``TransportFailure`` with a kind the executor can reason about:

* ``timeout``  — the request may or may not have reached the platform (ambiguous);
* ``connect``  — it never left (safe to resend);
* ``protocol`` — the connection broke mid-exchange (ambiguous).

Every request goes through one maintained HTTP stack, aiohttp (docs/runs.md, "The HTTP
transport", has the measurements behind the choice): its connection pool, its HTTP/1.1 parser
(bodies without Content-Length, chunked bodies, dropped keep-alive connections), proxies from
the environment (``HTTP_PROXY``, ``HTTPS_PROXY`` through CONNECT, ``NO_PROXY``; ``proxy_for``
finds it once per run) and the profile's TLS context. Actions call the session directly (the
fast path); ``http`` is an ``httpx.AsyncClient`` over the same session (through the
``httpx-aiohttp`` adapter) for listings. Tests hand in an httpx transport
(``httpx.MockTransport``) instead: the request is built here either way, to the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport

from ircli.platform.bodies import MAX_BYTES, BodyTooLarge, parse_json
from ircli.platform.render import PreparedRequest
from ircli.platform.sent import RequestKind, count

__all__ = ["PlatformClient", "Reply", "TransportFailure"]

# What ``quote`` leaves alone in a path that is already percent-encoded where it needs to be
# (``{target}`` values are encoded in full by ``render``): RFC 3986's pchar and "/".
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Reply:
    """A platform's answer, with the JSON body decoded when there is one."""

    status: int
    headers: Mapping[str, str]
    body: Any
    problem: str | None = None
    """Why a body that was sent is not used: past ircli's limits (``bodies``), with the URL."""


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


@dataclass(frozen=True)
class _Outgoing:
    """A request as it goes on the wire: absolute URL (already encoded), headers, body."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


class PlatformClient:
    """Sends prepared requests to one platform, at most ``max_connections`` at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        connect_timeout: float,
        max_connections: int,
        idempotency_header: str | None,
        tls: ssl.SSLContext | None = None,
        proxy: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.idempotency_header = idempotency_header
        self._base = base_url.rstrip("/")
        self._headers = {"user-agent": "ircli", "accept": "application/json", **headers}
        self._timeouts = {
            "connect": connect_timeout,
            "read": timeout,
            "write": timeout,
            "pool": timeout,
        }
        self._session: aiohttp.ClientSession | None = None
        self._proxy: yarl.URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        if transport is None:
            # The proxy (``proxy_for``) is given once for the run's one origin: aiohttp's own
            # per-request lookup (trust_env) walks the environment and ~/.netrc every time,
            # which took two thirds of the request rate on the sandbox.
            if proxy:
                address = yarl.URL(proxy)
                if address.user is not None:
                    self._proxy_auth = aiohttp.BasicAuth(address.user, address.password or "")
                self._proxy = address.with_user(None)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=max_connections, limit_per_host=0, ssl=tls if tls is not None else True
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=timeout, sock_connect=connect_timeout, sock_read=timeout
                ),
                cookie_jar=aiohttp.DummyCookieJar(),  # admin APIs authenticate by header
                skip_auto_headers=("Accept-Encoding", "Content-Type"),  # ircli sets its own
            )
            for_httpx = None
            if self._proxy is not None:
                auth = self._proxy_auth
                for_httpx = httpx.Proxy(
                    str(self._proxy), auth=(auth.login, auth.password) if auth else None
                )
            # Requests go through the session, whose connector carries ``tls``; the adapter's
            # own context is never used. Given none, it would load a CA bundle for nothing
            # (~45 ms a client); this one verifies, holds no CA, and would fail closed.
            unused = tls or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            transport = _Transport(verify=unused, client=self._session, proxy=for_httpx)
        self._transport = transport
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers=self._headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
            event_hooks={"request": [_listing_page]},  # ``http`` reads listings, a page a request
        )

    async def send(
        self, request: PreparedRequest, idempotency_key: str | None = None, *, kind: RequestKind
    ) -> Reply:
        """Send one request (counted as ``kind``, see ``ircli.platform.sent``); raise
        ``TransportFailure`` when no response came back."""
        outgoing = self._outgoing(request, idempotency_key)
        count(kind)
        with transport_failures():
            if self._session is not None:
                return await self._send_aiohttp(self._session, outgoing)
            return await self._send_httpx(outgoing)

    def _outgoing(self, request: PreparedRequest, idempotency_key: str | None) -> _Outgoing:
        url = self._base + quote(request.path, safe=_PATH_SAFE)
        if request.query:
            url += "?" + urlencode(_query_values(request.query), doseq=True)
        headers = self._headers
        extra: dict[str, str] = {}
        body: bytes | None = None
        if request.json is not None:
            body = json.dumps(request.json, separators=(",", ":"), ensure_ascii=False).encode()
            extra["content-type"] = "application/json"
        elif request.form is not None:
            body = urlencode(request.form, doseq=True).encode("ascii")
            extra["content-type"] = "application/x-www-form-urlencoded"
        elif request.method in ("POST", "PUT", "PATCH"):
            body = b""
        if idempotency_key and self.idempotency_header:
            extra[self.idempotency_header] = idempotency_key
        if request.headers:
            extra = {**request.headers, **extra}
        if extra:
            headers = {**headers, **extra}
        return _Outgoing(request.method, url, headers, body)

    async def _send_aiohttp(self, session: aiohttp.ClientSession, out: _Outgoing) -> Reply:
        # encoded=True: the URL is sent exactly as built, never re-quoted or dot-normalised.
        async with session.request(
            out.method,
            yarl.URL(out.url, encoded=True),
            headers=out.headers,
            # An empty body is None to aiohttp, which then sends "Content-Length: 0" alone
            # (b"" would add "Content-Type: application/octet-stream").
            data=out.body or None,
            allow_redirects=False,
            proxy=self._proxy,
            proxy_auth=self._proxy_auth,
        ) as response:
            content = await _read_bounded(response)
            body, problem = _decode(content, out.url)
            return Reply(response.status, _lower(response.headers), body, problem)

    async def _send_httpx(self, out: _Outgoing) -> Reply:
        outgoing = httpx.Request(
            out.method,
            out.url,
            content=out.body,
            headers=out.headers,
            extensions={"timeout": self._timeouts},
        )
        response = await self._transport.handle_async_request(outgoing)
        content = await response.aread()
        await response.aclose()
        body, problem = _decode(content, out.url)
        return Reply(response.status_code, response.headers, body, problem)

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._session is None:
            await self._transport.aclose()

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


async def _listing_page(_request: httpx.Request) -> None:
    count("listing")


class _Transport(AiohttpTransport):
    """The httpx-aiohttp adapter, with every aiohttp error raised as an httpx one: the adapter
    maps the common ones, but lets others through (a malformed status line or chunk size
    raises ``aiohttp.ClientResponseError``), and callers of ``http`` expect httpx's."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except aiohttp.ClientError as exc:
            raise _as_httpx(exc, request) from exc
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Stream(stream, request),
            request=request,
            extensions=response.extensions,
        )


class _Stream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except aiohttp.ClientError as exc:
            raise _as_httpx(exc, self._request) from exc

    async def aclose(self) -> None:
        with contextlib.suppress(aiohttp.ClientError):
            await self._stream.aclose()


def _as_httpx(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientHttpProxyError):
        return httpx.ConnectError(detail, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(detail, request=request)
    return httpx.RemoteProtocolError(detail, request=request)


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes | None:
    """The body, or ``None`` once it passes ``MAX_BYTES`` (read no further: it is no answer
    ircli could use, and the connection is dropped rather than drained)."""
    if response.content_length is not None and response.content_length > MAX_BYTES:
        response.close()
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > MAX_BYTES:
            response.close()
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


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
    """Turn aiohttp's and httpx's transport exceptions into ``TransportFailure``s."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise TransportFailure("connect", str(exc) or "connection timed out") from None
    except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
        raise TransportFailure("timeout", str(exc) or "timed out") from None
    except aiohttp.ClientConnectorError as exc:
        # Refused, unreachable, DNS, the proxy refusing CONNECT, or a certificate that does
        # not verify: the request never left.
        raise TransportFailure("connect", _connector_detail(exc)) from None
    except aiohttp.ClientHttpProxyError as exc:
        raise TransportFailure("connect", f"the proxy answered {exc.status}") from None
    except aiohttp.ClientError as exc:
        raise TransportFailure("protocol", str(exc) or type(exc).__name__) from None
    except httpx.TimeoutException as exc:
        connect = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        kind: Literal["timeout", "connect"] = "connect" if connect else "timeout"
        raise TransportFailure(kind, str(exc) or "timed out") from None
    except (httpx.ConnectError, httpx.ProxyError) as exc:
        raise TransportFailure("connect", str(exc) or "connection refused") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise TransportFailure("protocol", str(exc) or type(exc).__name__) from None


def _connector_detail(exc: aiohttp.ClientConnectorError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"the certificate of {exc.host} did not verify ({exc.certificate_error})"
    reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
    return f"cannot connect to {exc.host}:{exc.port} ({reason})"


def _decode(content: bytes | None, url: str) -> tuple[Any, str | None]:
    """The JSON body, or ``None`` with the reason when it is past ircli's limits (a body that
    is not JSON is no problem: many platforms answer 204 or plain text)."""
    if content is None:
        return None, f"the answer from {url} is larger than {MAX_BYTES:,} bytes"
    if not content:
        return None, None
    try:
        return parse_json(content), None  # bounded: past its limits it is no JSON to use
    except BodyTooLarge as exc:
        return None, f"{exc} (from {url})"
    except ValueError:
        return None, None
