"""The shipped sandbox profile drives the real sandbox app (in-process, fixed clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from ircli.platform.model import Outcome, Profile
from ircli.platform.secrets import auth_headers
from ircli.redaction import Redactor
from ircli.sandbox import DEFAULT_TOKEN, SandboxApp, WorldConfig, create_app
from tests.conftest import FixedClock
from tests.platform.helpers import (
    check,
    client_for,
    collect,
    perform,
    perform_batch,
    run,
    shipped,
)

TOKEN = "profile-test-token"
ENV = {"IRCLI_SANDBOX_TOKEN": TOKEN}
SMALL = WorldConfig(
    seed=11,
    honest_accounts=1_500,
    honest_streams=200,
    bot_accounts=150,
    compromised_accounts=10,
    bot_rate=0.0,
)


@pytest.fixture
def app(clock: FixedClock) -> SandboxApp:
    return create_app(SMALL, token=TOKEN, clock=clock)


@pytest.fixture
def profile() -> Profile:
    return shipped("sandbox", ENV)


T = TypeVar("T")


def drive(
    app: SandboxApp, profile: Profile, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]
) -> T:
    async def go() -> T:
        async with client_for(app, profile, ENV) as client:
            return await scenario(client)

    return run(go())


def test_base_url_and_dev_token_defaults() -> None:
    profile = shipped("sandbox", {})
    assert profile.base_url == "http://127.0.0.1:8700"
    assert auth_headers(profile, {}, Redactor()) == {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def test_streams_listing_walks_every_cursor_page(app: SandboxApp, profile: Profile) -> None:
    async def scenario(
        client: httpx.AsyncClient,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        live = await collect(client, profile, "streams", {"status": "live"})
        bots = await collect(client, profile, "accounts", {"created_after": "2026-11-27T00:00:00Z"})
        return live, bots

    live, young = drive(app, profile, scenario)
    assert live
    assert all(s["status"] == "live" for s in live)
    assert len({s["id"] for s in live}) == len(live)
    assert young
    assert len(young) < SMALL.honest_accounts + SMALL.bot_accounts


def test_single_actions_and_their_already_answers(app: SandboxApp, profile: Profile) -> None:
    async def scenario(client: httpx.AsyncClient) -> list[tuple[str, Outcome]]:
        stream = (await collect(client, profile, "streams", {"status": "live"}))[0]
        account = stream["account_id"]
        steps = [
            ("streams.suspend", stream["id"]),
            ("streams.suspend", stream["id"]),
            ("streams.resume", stream["id"]),
            ("streams.resume", stream["id"]),
            ("sessions.revoke", account),
            ("sessions.revoke", account),
            ("accounts.reset_password", account),
            ("accounts.freeze", account),
            ("accounts.freeze", account),
            ("accounts.unfreeze", account),
            ("accounts.unfreeze", account),
            ("streams.resume", stream["id"]),  # its stream ended with the freeze
            ("streams.suspend", "str_9999999"),
        ]
        results = [
            (name, (await perform(client, profile, name, target))[1]) for name, target in steps
        ]
        assert await check(client, profile, "accounts.reset_password", account)
        assert await check(client, profile, "sessions.revoke", account)
        return results

    assert drive(app, profile, scenario) == [
        ("streams.suspend", Outcome.DONE),
        ("streams.suspend", Outcome.ALREADY_DONE),
        ("streams.resume", Outcome.DONE),
        ("streams.resume", Outcome.ALREADY_DONE),
        ("sessions.revoke", Outcome.DONE),
        ("sessions.revoke", Outcome.ALREADY_DONE),
        ("accounts.reset_password", Outcome.DONE),
        ("accounts.freeze", Outcome.DONE),
        ("accounts.freeze", Outcome.ALREADY_DONE),
        ("accounts.unfreeze", Outcome.DONE),
        ("accounts.unfreeze", Outcome.ALREADY_DONE),
        ("streams.resume", Outcome.FAILED),
        ("streams.suspend", Outcome.FAILED),
    ]


def test_batch_actions_map_per_target_results(app: SandboxApp, profile: Profile) -> None:
    async def scenario(client: httpx.AsyncClient) -> list[dict[str, Outcome]]:
        streams = [s["id"] for s in await collect(client, profile, "streams", {"status": "live"})]
        first, rest = streams[:3], streams[3:6]
        accounts = [a["id"] for a in await collect(client, profile, "accounts", {})][:4]
        return [
            await perform_batch(client, profile, "streams.suspend", first),
            await perform_batch(client, profile, "streams.suspend", [*first, *rest, "nope"]),
            await perform_batch(client, profile, "accounts.freeze", accounts),
            await perform_batch(client, profile, "accounts.unfreeze", accounts[:2]),
            await perform_batch(client, profile, "sessions.revoke", accounts[2:]),
            await perform_batch(client, profile, "accounts.reset_password", accounts[:1]),
        ]

    suspend1, suspend2, freeze, unfreeze, revoke, reset = drive(app, profile, scenario)
    assert set(suspend1.values()) == {Outcome.DONE}
    assert list(suspend2.values()).count(Outcome.ALREADY_DONE) == 3
    assert list(suspend2.values()).count(Outcome.DONE) == 3
    assert suspend2["nope"] is Outcome.FAILED
    assert set(freeze.values()) == {Outcome.DONE}
    assert set(unfreeze.values()) == {Outcome.DONE}
    assert set(revoke.values()) <= {Outcome.DONE, Outcome.ALREADY_DONE}
    assert set(reset.values()) == {Outcome.DONE}


def test_domains_and_flags(app: SandboxApp, profile: Profile) -> None:
    async def scenario(client: httpx.AsyncClient) -> list[Any]:
        domains = [d["domain"] for d in await collect(client, profile, "domains", {})]
        flags = {f["name"]: f for f in await collect(client, profile, "flags", {})}
        results: list[Any] = [
            (await perform(client, profile, "domains.block", domains[0]))[1],
            (await perform(client, profile, "domains.block", domains[0]))[1],
            (await perform(client, profile, "domains.unblock", domains[0]))[1],
            (await perform(client, profile, "domains.unblock", domains[0]))[1],
            await perform_batch(client, profile, "domains.block", [domains[1], "not a domain"]),
            (
                await perform(
                    client, profile, "flags.set", "live_streaming", {"rollout_percent": "10"}
                )
            )[1],
            (
                await perform(
                    client,
                    profile,
                    "flags.set",
                    "live_streaming",
                    {"rollout_percent": 10, "enabled": "true"},
                )
            )[1],
        ]
        after = {f["name"]: f for f in await collect(client, profile, "flags", {})}
        return [
            flags["live_streaming"]["rollout_percent"],
            *results,
            after["live_streaming"]["rollout_percent"],
        ]

    before, *outcomes, after = drive(app, profile, scenario)
    assert (before, after) == (100, 10)
    assert outcomes[:4] == [Outcome.DONE, Outcome.ALREADY_DONE, Outcome.DONE, Outcome.ALREADY_DONE]
    assert list(outcomes[4].values()) == [Outcome.DONE, Outcome.FAILED]
    assert outcomes[5:] == [Outcome.DONE, Outcome.ALREADY_DONE]


def test_every_action_is_exercised_here(profile: Profile) -> None:
    exercised = {
        "streams.suspend",
        "streams.resume",
        "accounts.freeze",
        "accounts.unfreeze",
        "accounts.reset_password",
        "sessions.revoke",
        "domains.block",
        "domains.unblock",
        "flags.set",
    }
    assert set(profile.actions) == exercised
