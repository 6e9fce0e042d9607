"""The shipped Keycloak profile against a stub built from Keycloak's Admin REST API docs."""

from __future__ import annotations

import pytest

from ircli.errors import OperationFailed
from ircli.platform.model import Outcome
from tests.platform.helpers import check, client_for, collect, perform, run, shipped
from tests.platform.stubs import TOKEN, KeycloakState, KeycloakUser, keycloak_app

ENV = {"KEYCLOAK_URL": "https://sso.test", "KEYCLOAK_TOKEN": TOKEN, "KEYCLOAK_REALM": "ops"}


@pytest.fixture
def state() -> KeycloakState:
    users = {
        f"u-{i:04d}": KeycloakUser(f"u-{i:04d}", f"{'bot' if i % 3 == 0 else 'user'}{i}")
        for i in range(250)
    }
    return KeycloakState(users=users)


def test_listing_pages_with_first_and_max(state: KeycloakState) -> None:
    profile = shipped("keycloak", ENV)

    async def go() -> list[str]:
        async with client_for(keycloak_app(state), profile, ENV) as client:
            return [u["id"] for u in await collect(client, profile, "users", {})]

    assert run(go()) == list(state.users)
    pages = [(r.path, r.query) for r in state.requests]
    assert pages == [
        ("/admin/realms/ops/users", {"briefRepresentation": "true", "max": "100", "first": f})
        for f in ("0", "100", "200")
    ]  # the third page is short: no fourth request
    assert all(r.authorization == f"Bearer {TOKEN}" for r in state.requests)


def test_listing_filters_pass_through(state: KeycloakState) -> None:
    profile = shipped("keycloak", ENV)
    state.users["u-0003"].enabled = False

    async def go() -> list[str]:
        async with client_for(keycloak_app(state), profile, ENV) as client:
            found = await collect(client, profile, "users", {"search": "bot", "enabled": "true"})
            return [u["username"] for u in found]

    names = run(go())
    assert len(names) == 83
    assert all(n.startswith("bot") for n in names)
    assert state.requests[0].query["search"] == "bot"


def test_the_realm_is_a_variable_with_a_default() -> None:
    profile = shipped("keycloak", {"KEYCLOAK_URL": "https://sso.test"})
    assert profile.variables == {"realm": "master"}


def test_wrong_realm_fails_the_listing(state: KeycloakState) -> None:
    env = {**ENV, "KEYCLOAK_REALM": "nope"}
    profile = shipped("keycloak", env)

    async def go() -> None:
        async with client_for(keycloak_app(state), profile, env) as client:
            await collect(client, profile, "users", {})

    with pytest.raises(OperationFailed, match="404"):
        run(go())


@pytest.mark.parametrize(
    ("action", "method", "suffix", "body"),
    [
        ("accounts.freeze", "PUT", "", {"enabled": False}),
        ("accounts.unfreeze", "PUT", "", {"enabled": True}),
        ("accounts.reset_password", "PUT", "", {"requiredActions": ["UPDATE_PASSWORD"]}),
        ("accounts.reset_password_email", "PUT", "/execute-actions-email", ["UPDATE_PASSWORD"]),
        ("sessions.revoke", "POST", "/logout", None),
    ],
)
def test_every_action_request_shape(
    state: KeycloakState, action: str, method: str, suffix: str, body: object
) -> None:
    profile = shipped("keycloak", ENV)

    async def go() -> tuple[int, Outcome]:
        async with client_for(keycloak_app(state), profile, ENV) as client:
            response, outcome = await perform(client, profile, action, "u-0007")
            return response.status_code, outcome

    assert run(go()) == (204, Outcome.DONE)
    sent = state.requests[0]
    assert (sent.method, sent.path) == (method, f"/admin/realms/ops/users/u-0007{suffix}")
    assert sent.body == body
    assert sent.authorization == f"Bearer {TOKEN}"
    if body is not None:
        assert sent.content_type == "application/json"


def test_actions_change_state_and_repeat_safely(state: KeycloakState) -> None:
    profile = shipped("keycloak", ENV)
    user = state.users["u-0009"]

    async def go() -> list[Outcome]:
        outcomes = []
        async with client_for(keycloak_app(state), profile, ENV) as client:
            for name in (
                "accounts.freeze",
                "accounts.freeze",
                "sessions.revoke",
                "accounts.reset_password",
                "accounts.reset_password",
            ):
                outcomes.append((await perform(client, profile, name, "u-0009"))[1])
            assert await check(client, profile, "accounts.freeze", "u-0009")
        return outcomes

    assert run(go()) == [Outcome.DONE] * 5
    assert (user.enabled, user.sessions, user.required_actions) == (
        False,
        0,
        ["UPDATE_PASSWORD"],
    )
    assert user.emails == 0
    actions = profile.actions
    assert all(
        actions[n].idempotent
        for n in ("accounts.freeze", "sessions.revoke", "accounts.reset_password")
    )
    assert not actions["accounts.reset_password_email"].idempotent  # one email per request


def test_email_reset_sends_its_lifespan(state: KeycloakState) -> None:
    profile = shipped("keycloak", ENV)

    async def go() -> None:
        async with client_for(keycloak_app(state), profile, ENV) as client:
            await perform(
                client, profile, "accounts.reset_password_email", "u-0001", {"lifespan": "600"}
            )

    run(go())
    assert state.requests[0].query == {"lifespan": "600"}
    assert state.users["u-0001"].emails == 1


def test_unknown_user_fails(state: KeycloakState) -> None:
    profile = shipped("keycloak", ENV)

    async def go() -> tuple[int, Outcome]:
        async with client_for(keycloak_app(state), profile, ENV) as client:
            response, outcome = await perform(client, profile, "sessions.revoke", "nobody")
            return response.status_code, outcome

    assert run(go()) == (404, Outcome.FAILED)
