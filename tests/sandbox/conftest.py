"""Sandbox fixtures: a small world, the app in-process on a fixed clock, and a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ircli.sandbox import RunningServer, SandboxApp, WorldConfig, create_app, run_server
from tests.conftest import FixedClock

TOKEN = "test-token"
SMALL = WorldConfig(
    seed=7,
    honest_accounts=3_000,
    honest_streams=400,
    bot_accounts=300,
    compromised_accounts=20,
    bot_rate=5.0,
    max_batch=50,
    max_page=200,
)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(clock: FixedClock) -> SandboxApp:
    """A small world on the fixed clock (bots start a stream every 0.2 s of that clock)."""
    return create_app(SMALL, token=TOKEN, clock=clock)


class InProcess:
    """A synchronous facade over ``httpx.AsyncClient`` + ``ASGITransport`` (one event loop)."""

    def __init__(self, app: SandboxApp) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=auth()
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def api(app: SandboxApp) -> Iterator[InProcess]:
    """The app in-process, authenticated with the all-scopes token."""
    client = InProcess(app)
    yield client
    client.close()


def all_pages(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    """One real loopback server for the session (reset it in tests that need a fresh world)."""
    with run_server(SMALL, token=TOKEN) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    """A loopback client against a freshly reset server with no faults."""
    with httpx.Client(base_url=server.url, headers=auth(), timeout=10) as client:
        client.put("/_sandbox/faults", json={}).raise_for_status()
        client.post("/_sandbox/reset", json={"seed": 7}).raise_for_status()
        yield client
        client.put("/_sandbox/faults", json={})
