"""Webhook names: every name a webhook is sent under is one the files' checks accept."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ircli.playbook import webhooks
from ircli.playbook.webhooks import KnownWebhooks, webhook_url, webhook_variable
from tests.peers import RawServer, response

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)


@given(NAMES)
def test_a_name_set_only_in_the_environment_is_known(name: str) -> None:
    env = {webhook_variable(name): "https://hooks.example/1"}
    assert name in KnownWebhooks({}, env)
    assert webhook_url({}, env, name) == "https://hooks.example/1"


@given(st.dictionaries(NAMES, st.just("https://hooks.example/2"), max_size=4), st.sets(NAMES))
def test_every_known_name_has_a_url(config: dict[str, str], from_env: set[str]) -> None:
    env = {webhook_variable(name): "https://hooks.example/3" for name in from_env}
    env["PATH"] = "/usr/bin"
    for name in KnownWebhooks(config, env):
        assert webhook_url(config, env, name) is not None


def test_a_hyphenated_name_is_found_through_its_variable() -> None:
    known = KnownWebhooks({"pager": "https://hooks.example/5"}, {"IRCLI_WEBHOOK_ON_CALL": "x"})
    assert "on-call" in known
    assert "on_call" in known
    assert "oncall" not in known
    assert list(known) == ["on_call", "pager"]  # what a "did you mean" may offer


def test_a_webhook_that_never_answers_fails_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def answer(_request: bytes) -> bytes:
        release.wait(30)  # accepted, read, and never answered while the post waits
        return response("204 No Content", b"")

    monkeypatch.setattr(webhooks, "POST_SECONDS", 0.2)
    with RawServer(answer).running() as server:
        try:
            status, detail = asyncio.run(webhooks.post_webhook(server.url, {"text": "x"}))
        finally:
            release.set()
    assert (status, detail) == ("failed", "no answer within 0.2 s")
    assert len(server.requests) == 1
