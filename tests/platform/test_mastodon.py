"""The shipped Mastodon profile against a stub built from Mastodon's admin API docs."""

from __future__ import annotations

import pytest

from ircli.errors import OperationFailed
from ircli.platform.model import Outcome
from tests.platform.helpers import check, client_for, collect, perform, run, shipped
from tests.platform.stubs import TOKEN, MastodonAccount, MastodonState, mastodon_app

ENV = {"MASTODON_URL": "https://mastodon.test", "MASTODON_TOKEN": TOKEN}


@pytest.fixture
def state() -> MastodonState:
    accounts = {
        str(100 + i): MastodonAccount(
            str(100 + i), f"user{i}", domain="spam.example" if i % 5 == 0 else None
        )
        for i in range(450)
    }
    return MastodonState(accounts=accounts)


def test_listing_follows_the_link_header_through_every_page(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)

    async def go() -> list[str]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            return [
                a["id"] for a in await collect(client, profile, "accounts", {"origin": "local"})
            ]

    ids = run(go())
    local = sorted((i for i, a in state.accounts.items() if a.domain is None), key=int)
    assert ids == sorted(local, key=int, reverse=True)  # newest first, each once
    pages = [r for r in state.requests if r.path == "/api/v2/admin/accounts"]
    assert len(pages) == 2  # 360 local accounts, 200 a page
    assert pages[0].query == {"origin": "local", "limit": "200"}
    assert pages[1].query["max_id"] == ids[199]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in pages)


def test_listing_filter_by_domain_and_status(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)
    state.accounts["105"].suspended = True

    async def go() -> tuple[list[str], list[str]]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            spam = await collect(client, profile, "accounts", {"by_domain": "spam.example"})
            gone = await collect(client, profile, "accounts", {"status": "suspended"})
            return [a["id"] for a in spam], [a["id"] for a in gone]

    spam, gone = run(go())
    assert len(spam) == 90
    assert all(state.accounts[i].domain == "spam.example" for i in spam)
    assert gone == ["105"]


def test_link_to_another_origin_is_not_followed(state: MastodonState) -> None:
    env = {**ENV, "MASTODON_URL": "https://10.0.0.5"}  # not the instance's canonical name
    profile = shipped("mastodon", env)

    async def go() -> None:
        app = mastodon_app(state)
        async with client_for(app, profile, env) as client:
            # The stub writes Link URLs for the host it was asked for; pretend the canonical
            # host differs by rewriting the request host.
            client.headers["Host"] = "mastodon.test"
            await collect(client, profile, "accounts", {})

    with pytest.raises(OperationFailed, match="not following it"):
        run(go())


def test_freeze_is_a_disable_action_with_reason_and_is_checked(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)

    async def go() -> tuple[int, Outcome, bool]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            response, outcome = await perform(
                client, profile, "accounts.freeze", "101", {"reason": "bot swarm"}
            )
            return (
                response.status_code,
                outcome,
                await check(client, profile, "accounts.freeze", "101"),
            )

    status, outcome, done = run(go())
    assert (status, outcome, done) == (200, Outcome.DONE, True)
    sent = state.requests[0]
    assert (sent.method, sent.path) == ("POST", "/api/v1/admin/accounts/101/action")
    assert sent.body == {
        "type": "disable",
        "text": "bot swarm",
        "send_email_notification": False,
    }
    assert sent.authorization == f"Bearer {TOKEN}"
    assert sent.content_type == "application/json"
    assert state.accounts["101"].disabled
    assert not profile.actions["accounts.freeze"].idempotent  # each resend adds a strike


@pytest.mark.parametrize(
    ("action", "flag", "check_field"),
    [("accounts.suspend", "suspended", "suspended"), ("accounts.silence", "silenced", "silenced")],
)
def test_suspend_and_silence(
    state: MastodonState, action: str, flag: str, check_field: str
) -> None:
    profile = shipped("mastodon", ENV)

    async def go() -> tuple[Outcome, bool]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            _response, outcome = await perform(client, profile, action, "102")
            return outcome, await check(client, profile, action, "102")

    assert run(go()) == (Outcome.DONE, True)
    assert getattr(state.accounts["102"], flag)
    assert state.requests[0].body["type"] == action.split(".")[1]
    assert profile.actions[action].check is not None
    assert profile.actions[action].check.field == check_field  # type: ignore[union-attr]


def test_inverse_actions_and_their_answers(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)
    account = state.accounts["103"]
    account.disabled = account.suspended = account.silenced = True

    async def go() -> list[tuple[str, int, Outcome]]:
        results = []
        async with client_for(mastodon_app(state), profile, ENV) as client:
            for name in (
                "accounts.unfreeze",
                "accounts.unsuspend",
                "accounts.unsilence",
                "accounts.unsuspend",
            ):
                response, outcome = await perform(client, profile, name, "103")
                results.append((name, response.status_code, outcome))
        return results

    results = run(go())
    assert results[:3] == [
        ("accounts.unfreeze", 200, Outcome.DONE),
        ("accounts.unsuspend", 200, Outcome.DONE),
        ("accounts.unsilence", 200, Outcome.DONE),
    ]
    # Unsuspending an account that is not suspended is a 403, indistinguishable from a
    # permission problem: the profile marks it not idempotent and reconciles with a check.
    assert results[3] == ("accounts.unsuspend", 403, Outcome.FAILED)
    assert not profile.actions["accounts.unsuspend"].idempotent
    assert [(r.method, r.path) for r in state.requests] == [
        ("POST", "/api/v1/admin/accounts/103/enable"),
        ("POST", "/api/v1/admin/accounts/103/unsuspend"),
        ("POST", "/api/v1/admin/accounts/103/unsilence"),
        ("POST", "/api/v1/admin/accounts/103/unsuspend"),
    ]
    assert profile.actions["accounts.freeze"].inverse == "accounts.unfreeze"


def test_unknown_account_fails(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)

    async def go() -> tuple[int, Outcome]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            response, outcome = await perform(client, profile, "accounts.freeze", "999999")
            return response.status_code, outcome

    assert run(go()) == (404, Outcome.FAILED)


def test_domain_block_twice_is_already_done_and_unblock_by_id(state: MastodonState) -> None:
    profile = shipped("mastodon", ENV)

    async def go() -> list[Outcome]:
        async with client_for(mastodon_app(state), profile, ENV) as client:
            outcomes = []
            for _ in range(2):
                _r, outcome = await perform(
                    client, profile, "domains.block", "spam.example", {"reason": "flood"}
                )
                outcomes.append(outcome)
            blocks = await collect(client, profile, "domain_blocks", {})
            for _ in range(2):
                _r, outcome = await perform(client, profile, "domains.unblock", blocks[0]["id"])
                outcomes.append(outcome)
            return outcomes

    assert run(go()) == [Outcome.DONE, Outcome.ALREADY_DONE, Outcome.DONE, Outcome.ALREADY_DONE]
    created = state.requests[0]
    assert (created.method, created.path) == ("POST", "/api/v1/admin/domain_blocks")
    assert created.body == {
        "domain": "spam.example",
        "severity": "suspend",
        "private_comment": "flood",
    }
    assert state.requests[-1].method == "DELETE"
    assert state.blocks == {}


def test_a_wrong_token_is_a_failure_not_a_retry(state: MastodonState) -> None:
    env = {**ENV, "MASTODON_TOKEN": "wrong-token"}
    profile = shipped("mastodon", env)

    async def go() -> Outcome:
        async with client_for(mastodon_app(state), profile, env) as client:
            return (await perform(client, profile, "accounts.freeze", "101"))[1]

    assert run(go()) is Outcome.FAILED
    assert not state.accounts["101"].disabled
