"""Run a playbook's query steps (reads only) against the in-process sandbox.

A stand-in for the runner's query path, enough to measure what a playbook's filters select
against the sandbox's ground truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from ircli.platform.listing import iter_items
from ircli.platform.loader import load_profile
from ircli.platform.model import Profile
from ircli.playbook.context import Context
from ircli.playbook.model import Playbook, Query, QueryStep
from ircli.playbook.templates import render_value
from ircli.sandbox import SandboxApp

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://sandbox.test"


def sandbox_profile() -> Profile:
    return load_profile(ROOT / "profiles" / "sandbox.yaml", env={"IRCLI_SANDBOX_URL": BASE})


async def _read(
    client: httpx.AsyncClient, profile: Profile, query: Query, context: Context
) -> dict[str, Any]:
    filters = {k: str(render_value(v, context)) for k, v in query.filters.items()}
    items = [item async for item in iter_items(client, profile, query.listing, filters)]
    kept = query.where.filter(items, context) if query.where is not None else items
    if query.limit is not None:
        kept = kept[: query.limit]
    id_field = profile.listings[query.listing].id
    return {"ids": [item[id_field] for item in kept], "items": kept, "count": len(kept)}


def run_queries(
    app: SandboxApp, playbook: Playbook, inputs: Mapping[str, Any], now: datetime, token: str
) -> dict[str, dict[str, Any]]:
    """The results of every query step, in order (other steps are ignored)."""
    profile = sandbox_profile()

    async def main() -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            for step in playbook.steps:
                if isinstance(step, QueryStep):
                    context = Context(inputs=inputs, steps=results, now=now)
                    results[step.id] = await _read(client, profile, step.query, context)
        return results

    return asyncio.run(main())
