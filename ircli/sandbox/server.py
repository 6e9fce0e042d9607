"""Serving the sandbox over real HTTP: uvicorn in a background thread on a loopback port.

``run_server`` is what tests and ``ircli drill`` use; ``ircli sandbox serve`` uses the same
runner and waits for Ctrl-C. uvloop and httptools are used when installed.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ircli.clock import Clock, system_clock
from ircli.errors import OperationFailed
from ircli.sandbox.app import SandboxApp, create_app
from ircli.sandbox.auth import DEFAULT_TOKEN
from ircli.sandbox.faults import FaultConfig
from ircli.sandbox.world import WorldConfig

__all__ = ["RunningServer", "run_server", "serve_app"]

_INCOMPLETE = "ASGI callable returned without completing response."


class _HideDroppedConnections(logging.Filter):
    """Injected connection drops are on purpose; uvicorn need not log each one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _INCOMPLETE


_FILTER = _HideDroppedConnections()


@dataclass
class RunningServer:
    """A sandbox being served: its base URL and the app (whose ``platform`` is the state)."""

    url: str
    host: str
    port: int
    app: SandboxApp


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OperationFailed(f"cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


@contextmanager
def serve_app(
    app: SandboxApp, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 15.0
) -> Iterator[RunningServer]:
    """Serve ``app`` on ``host:port`` (0 = a free port) until the block exits."""
    import uvicorn

    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    has_httptools = importlib.util.find_spec("httptools") is not None
    config = uvicorn.Config(
        app,
        loop="uvloop" if has_uvloop else "asyncio",
        http="httptools" if has_httptools else "h11",
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        server_header=False,
        date_header=False,
        backlog=2048,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").addFilter(_FILTER)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="ircli-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise OperationFailed(f"the sandbox server did not start on {host}:{bound_port}.")
        time.sleep(0.01)
    shown = f"[{host}]" if ":" in host else host
    try:
        yield RunningServer(f"http://{shown}:{bound_port}", host, bound_port, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def run_server(
    config: WorldConfig | None = None,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultConfig | None = None,
    clock: Clock = system_clock,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningServer]:
    """Generate a world and serve it over HTTP until the block exits.

    >>> with run_server(WorldConfig(seed=7), token="t") as server:  # doctest: +SKIP
    ...     httpx.get(server.url + "/healthz")
    """
    app = create_app(config, token=token, faults=faults, clock=clock)
    with serve_app(app, host=host, port=port) as server:
        yield server
