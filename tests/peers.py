"""Small rude peers on loopback, where the sandbox is too polite: a raw-socket HTTP server that
answers exactly the bytes a test gives it, a forward proxy (absolute-form requests and CONNECT
tunnels) and a TLS server whose certificate comes from a CA the test creates (``trustme``).

Each runs in a daemon thread, records what it saw, and is stopped by its context manager.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

Answer = Callable[[bytes], bytes | None]
"""Given one request (head and body), the bytes to send back; ``None`` closes at once."""


def _read_request(conn: socket.socket) -> bytes | None:
    """One HTTP/1.1 request (head and a Content-Length body), or ``None`` at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


class _Peer:
    """A loopback listener: each connection is handled by ``_handle`` in its own thread
    until ``running()`` ends."""

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # here: the thread may start after the listener closed
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _accepted(self) -> None:
        """Called for each connection before it is handled."""

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._listener.close()
            thread.join(timeout=5)


@dataclass
class RawServer(_Peer):
    """Answers each request on a connection with ``answer(request)``; ``keep_open=False``
    closes the connection after every answer (whatever the answer's headers said)."""

    answer: Answer
    keep_open: bool = True
    tls: ssl.SSLContext | None = None
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _accepted(self) -> None:
        with self._lock:
            self.connections += 1

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            with conn:
                while not self._stop.is_set():
                    request = _read_request(conn)
                    if request is None:
                        return
                    with self._lock:
                        self.requests.append(request)
                    reply = self.answer(request)
                    if reply is None:
                        return
                    conn.sendall(reply)
                    if not self.keep_open:
                        return


@dataclass
class ForwardProxy(_Peer):
    """An HTTP forward proxy: ``GET http://host/…`` is relayed, ``CONNECT host:port`` tunnels.
    ``seen`` holds each request line it was asked for."""

    seen: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), client:
            client.settimeout(10)
            while True:
                request = _read_request(client)
                if request is None:
                    return
                line = request.split(b"\r\n", 1)[0].decode("latin-1")
                self.seen.append(line)
                method, target, _ = line.split(" ", 2)
                if method == "CONNECT":
                    host, _, port = target.rpartition(":")
                    upstream = socket.create_connection((host, int(port)), timeout=10)
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe(client, upstream)
                    return
                # absolute-form: http://host:port/path → origin-form to the upstream
                rest = target.split("://", 1)[1]
                authority, _, path = rest.partition("/")
                host, _, port = authority.rpartition(":")
                upstream = socket.create_connection((host, int(port or 80)), timeout=10)
                with upstream:
                    _, _, tail = request.partition(b"\r\n")
                    upstream.sendall(f"{method} /{path} HTTP/1.1".encode() + b"\r\n" + tail)
                    answer = _read_request(upstream)  # a response has the same framing here
                    if answer is None:
                        return
                    client.sendall(answer)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    with b:
        while True:
            ready, _, _ = select.select([a, b], [], [], 10)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)


def response(
    status: str = "200 OK", body: bytes = b'{"ok":true}', *, headers: tuple[str, ...] = ()
) -> bytes:
    """A response with Content-Length (unless ``headers`` frame it some other way)."""
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*parts: bytes) -> bytes:
    """A chunked body made of ``parts``."""
    out = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return out + b"0\r\n\r\n"


FREEZE_ACTION = (
    "actions:\n"
    "  accounts.freeze:\n"
    "    target: users\n"
    "    request: {method: POST, path: '/users/{target}/freeze'}\n"
    "    idempotent: true\n"
)


def write_profile(
    folder: Path,
    base_url: str,
    *,
    settings: str = "limits: {retries: 2, backoff_base: 10ms, concurrency: 4, timeout: 5s}\n",
    listing: str = "{path: /users, id: id, filters: [q]}",
    actions: str = FREEZE_ACTION,
    name: str = "peer",
) -> Path:
    """A profile for a peer: ``settings`` (top-level lines), one ``users`` listing and the
    ``actions`` text; written to ``folder/<name>.yaml``."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"profile: 1\nname: {name}\nbase_url: {base_url}\n{settings}"
        f"listings:\n  users: {listing}\n{actions}",
        encoding="utf-8",
    )
    return path
