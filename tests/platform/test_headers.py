"""Request headers a profile adds: placeholders filled, control characters refused before
anything is sent (naming the profile's line and the variable or parameter, never the value)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from tests.peers import RawServer, response


def _profile(tmp_path: Path, url: str, headers: str) -> Path:
    path = tmp_path / "peer.yaml"
    path.write_text(
        "profile: 1\nname: peer\n"
        f"base_url: {url}\n"
        "variables: {tenant: {env: TENANT, default: main}}\n"
        "limits: {retries: 0}\n"
        "listings:\n  users: {path: /users, id: id}\n"
        "actions:\n"
        "  accounts.freeze:\n"
        "    target: users\n"
        "    params:\n"
        "      reason: {default: ''}\n"
        "    request:\n"
        "      method: POST\n"
        "      path: '/users/{target}/freeze'\n"
        f"      headers: {headers}\n"
        "    idempotent: true\n",
        encoding="utf-8",
    )
    return path


def _headers(request: bytes) -> dict[str, str]:
    head = request.partition(b"\r\n\r\n")[0].decode()
    pairs = (line.partition(":") for line in head.split("\r\n")[1:])
    return {name.lower(): value.strip() for name, _, value in pairs}


def test_headers_are_filled_and_sent(cli: Any, tmp_path: Path) -> None:
    headers = "{X-Tenant: '{var.tenant}', X-Reason: 'ircli: {param.reason}', X-Api-Version: '2'}"
    with RawServer(lambda _: response()).running() as peer:
        path = str(_profile(tmp_path, peer.url, headers))
        result = cli("accounts", "freeze", "--id", "u1", "--reason", "bot swarm",
                     "--profile", path, "--yes", env={"TENANT": "blue"})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (post,) = [r for r in peer.requests if r.startswith(b"POST ")]  # after the preflight GET
    sent = _headers(post)
    assert sent["x-tenant"] == "blue"
    assert sent["x-reason"] == "ircli: bot swarm"
    assert sent["x-api-version"] == "2"


@pytest.mark.parametrize(
    ("env", "reason", "origin"),
    [
        ({"TENANT": "blue\r\nX-Injected: yes"}, "r", "the variable 'tenant'"),
        ({}, "spam\r\nX-Injected: yes", "the parameter 'reason'"),
        ({}, "nul\x00byte", "the parameter 'reason'"),
    ],
)
def test_a_control_character_in_a_header_is_refused_before_anything_is_sent(
    cli: Any, tmp_path: Path, env: dict[str, str], reason: str, origin: str
) -> None:
    headers = "{X-Tenant: '{var.tenant}', X-Reason: '{param.reason}'}"
    with RawServer(lambda _: response()).running() as peer:
        path = str(_profile(tmp_path, peer.url, headers))
        result = cli("accounts", "freeze", "--id", "u1", "--reason", reason,
                     "--profile", path, "--yes", env=env)  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "peer.yaml:16:16: the X-" in result.stderr
    assert origin in result.stderr
    assert "nothing was changed on the platform" in result.stderr
    assert "X-Injected" not in result.stderr
    assert peer.requests == []
    assert peer.connections == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("{Host: evil.example}", "ircli sets the Host header itself"),
        ("{Authorization: '{var.tenant}'}", "ircli sets the Authorization header itself"),
        ("{X-Api-Key: abc123}", "a secret may not be written in a profile"),
        ("{X-Tenant: '{param.nope}'}", "the parameter 'nope' is not declared"),
        ("{'bad header': x}", "a header name"),
    ],
)
def test_header_mistakes_are_refused_where_written(
    tmp_path: Path, headers: str, message: str
) -> None:
    text = _profile(tmp_path, "http://127.0.0.1:9", headers).read_text()
    with pytest.raises(InvalidInput, match=message):
        load_profile_text(text, "peer.yaml", {})


def test_a_resume_checks_the_headers_again(cli: Any, tmp_path: Path) -> None:
    """The environment may change between a run and its resume: checked again, exit 2."""
    unavailable = response("503 Service Unavailable", b"{}")
    with RawServer(lambda _: unavailable).running() as peer:
        path = str(_profile(tmp_path, peer.url, "{X-Tenant: '{var.tenant}'}"))
        first = cli("--json", "accounts", "freeze", "--id", "u1", "--profile", path, "--yes",
                    env={"TENANT": "blue"})  # fmt: skip
        run = json.loads(first.stdout.strip().splitlines()[-1])["run"]
        sent = len(peer.requests)
        resumed = cli("runs", "resume", run, "--yes", env={"TENANT": "blue\r\nX-Injected: 1"})
    assert first.exit_code == 1, first.stderr
    assert resumed.exit_code == 2, resumed.stderr
    assert "the variable 'tenant'" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert len(peer.requests) == sent
