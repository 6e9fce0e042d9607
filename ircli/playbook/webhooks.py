"""Posting to the webhooks named in ``ircli.yaml`` (``webhooks:``) or ``IRCLI_WEBHOOK_NAME``.

Playbook ``notify`` steps and ``ircli watch`` post through here: a JSON body with ``text``,
never failing the caller — the outcome is returned for its audit record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator, Mapping
from typing import Any

__all__ = ["POST_SECONDS", "KnownWebhooks", "post_webhook", "webhook_url", "webhook_variable"]

_PREFIX = "IRCLI_WEBHOOK_"


def webhook_variable(name: str) -> str:
    """The environment variable that may hold webhook ``name``'s URL."""
    return _PREFIX + name.upper().replace("-", "_")


class KnownWebhooks(Collection[str]):
    """The webhooks configured, as the files' checks see them: a name is in it when
    ``webhook_url`` finds its URL (``on-call`` through ``IRCLI_WEBHOOK_ON_CALL`` too);
    iterating gives the config's names and the variables' (lower-cased), for suggestions."""

    def __init__(self, webhooks: Mapping[str, str], env: Mapping[str, str]) -> None:
        self._webhooks = webhooks
        self._env = env
        from_env = (key[len(_PREFIX) :].lower() for key in env if key.startswith(_PREFIX))
        self._names = sorted({*webhooks, *from_env})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and webhook_url(self._webhooks, self._env, name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def webhook_url(webhooks: Mapping[str, str], env: Mapping[str, str], name: str) -> str | None:
    """The URL of webhook ``name``: the config's, else its environment variable's."""
    return webhooks.get(name) or env.get(webhook_variable(name))


POST_SECONDS = 15.0
"""The most a webhook post may take, however its server trickles its answer."""


async def post_webhook(url: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """POST ``payload`` as JSON; ``(done|failed, "HTTP 204" | the error's type)``, within
    ``POST_SECONDS``."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await asyncio.wait_for(
                client.post(url, json=dict(payload)), timeout=POST_SECONDS
            )
    except httpx.HTTPError as exc:
        return "failed", type(exc).__name__
    except TimeoutError:
        return "failed", f"no answer within {POST_SECONDS:g} s"
    status = "done" if response.status_code < 300 else "failed"
    return status, f"HTTP {response.status_code}"
