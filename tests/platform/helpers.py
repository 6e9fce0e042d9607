"""Drive a profile's requests by hand (render → send → classify), as the executor will."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ircli.platform.classify import classify, classify_batch
from ircli.platform.listing import iter_items
from ircli.platform.loader import load_profile
from ircli.platform.model import Outcome, Profile
from ircli.platform.params import bind_params
from ircli.platform.render import render
from ircli.platform.secrets import auth_headers
from ircli.redaction import Redactor

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def wrapped() -> T:
        return await coro

    return asyncio.run(wrapped())


def shipped(name: str, env: Mapping[str, str]) -> Profile:
    return load_profile(PROFILES / f"{name}.yaml", env)


def client_for(app: Any, profile: Profile, env: Mapping[str, str]) -> httpx.AsyncClient:
    headers = auth_headers(profile, env, Redactor())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=headers)


async def perform(
    client: httpx.AsyncClient,
    profile: Profile,
    action_name: str,
    target: str,
    params: Mapping[str, Any] | None = None,
) -> tuple[httpx.Response, Outcome]:
    """One single-target request of an action, and its classified outcome."""
    action = profile.actions[action_name]
    prepared = render(
        action.request,
        target=target,
        params=bind_params(action, params or {}),
        variables=profile.variables,
    )
    response = await client.request(
        prepared.method,
        profile.base_url + prepared.path,
        params=dict(prepared.query) or None,
        json=prepared.json,
    )
    body = response.json() if response.content else None
    return response, classify(action, response.status_code, body)


async def perform_batch(
    client: httpx.AsyncClient, profile: Profile, action_name: str, targets: Sequence[str]
) -> dict[str, Outcome]:
    action = profile.actions[action_name]
    assert action.batch is not None
    prepared = render(
        action.batch.request,
        targets=targets,
        params=bind_params(action, {}),
        variables=profile.variables,
    )
    response = await client.request(
        prepared.method, profile.base_url + prepared.path, json=prepared.json
    )
    grouped = classify_batch(action.batch, action, response.status_code, response.json(), targets)
    return {target: outcome for outcome, group in grouped.items() for target in group}


async def check(client: httpx.AsyncClient, profile: Profile, action_name: str, target: str) -> bool:
    """Whether the action's check read says it has taken effect on ``target``."""
    action = profile.actions[action_name]
    assert action.check is not None
    prepared = render(action.check.request, target=target, variables=profile.variables)
    response = await client.get(profile.base_url + prepared.path)
    return response.json().get(action.check.field) in action.check.equals


async def collect(
    client: httpx.AsyncClient, profile: Profile, listing: str, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    return [item async for item in iter_items(client, profile, listing, filters)]
