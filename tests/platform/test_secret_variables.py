"""A variable named like a secret may hold a reference (env, keyring, file), read at run time,
redacted everywhere, sent only to the platform; a literal one is still refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from tests.peers import RawServer, response

SECRET = "sk-live-4f9a8b7c6d5e"
BASE = "profile: 1\nname: p\nbase_url: http://127.0.0.1:9\n"


def _profile(tmp_path: Path, url: str, reference: str) -> Path:
    path = tmp_path / "peer.yaml"
    path.write_text(
        "profile: 1\nname: peer\n"
        f"base_url: {url}\n"
        f"variables: {{admin_token: {reference}, realm: main}}\n"
        "listings:\n  users: {path: /users, id: id}\n"
        "actions:\n"
        "  accounts.reset_password:\n"
        "    target: users\n"
        "    request:\n"
        "      method: POST\n"
        "      path: '/{var.realm}/users/{target}/reset'\n"
        "      json: {admin_token: '{var.admin_token}'}\n"
        "    idempotent: true\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "reference", ["{env: ADMIN_TOKEN}", "{keyring: ircli/admin}", "{file: admin.token}"]
)
def test_a_reference_is_allowed_and_kept_apart(reference: str) -> None:
    profile = load_profile_text(BASE + f"variables: {{admin_token: {reference}}}\n", "p.yaml", {})
    assert "admin_token" not in profile.variables
    assert profile.secrets["admin_token"].source in ("env", "keyring", "file")
    assert str(profile.secrets["admin_token"].location) == "p.yaml:4:26"


@pytest.mark.parametrize(
    ("value", "where"),
    [("abc", "p.yaml:4:13"), ("{env: ADMIN_TOKEN, default: abc}", "p.yaml:4:26")],
)
def test_a_literal_is_refused_with_a_hint_that_fits(value: str, where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_profile_text(BASE + f"variables: {{admin_token: {value}}}\n", "p.yaml", {})
    assert str(caught.value).startswith(f"{where}: variables -> admin_token: a secret may not")
    assert "Write the variable as a reference" in (caught.value.hint or "")
    assert "{env: NAME}" in (caught.value.hint or "")


def test_read_at_run_time_sent_only_to_the_platform(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    env = {"ADMIN_TOKEN": SECRET}
    with RawServer(lambda _: response()).running() as peer:
        profile = str(_profile(tmp_path, peer.url, "{env: ADMIN_TOKEN}"))
        shown = cli("--json", "profile", "show", profile, env=env)
        dry = cli("--json", "accounts", "reset-password", "--id", "u1", "--profile", profile,
                  "--dry-run", env=env)  # fmt: skip
        real = cli("--json", "accounts", "reset-password", "--id", "u1", "--profile", profile,
                   "--yes", env=env)  # fmt: skip
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["secret_variables"] == {"admin_token": "env ADMIN_TOKEN"}
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["requests"][0]["json"] == {"admin_token": "[REDACTED]"}
    assert real.exit_code == 0, real.stderr
    (request,) = [r for r in peer.requests if r.startswith(b"POST ")]  # not the preflight
    assert request.startswith(b"POST /main/users/u1/reset ")
    assert request.endswith(json.dumps({"admin_token": SECRET}, separators=(",", ":")).encode())
    for output in (shown, dry, real):
        assert SECRET not in output.stdout + output.stderr
    assert SECRET.encode() not in db_path.read_bytes()


def test_an_unset_reference_is_one_sentence_naming_the_variable(cli: Any, tmp_path: Path) -> None:
    profile = str(_profile(tmp_path, "http://127.0.0.1:9", "{env: ADMIN_TOKEN}"))
    result = cli("accounts", "reset-password", "--id", "u1", "--profile", profile, "--yes")
    assert result.exit_code == 2
    assert "ADMIN_TOKEN is not set" in result.stderr
    assert "(variable admin_token)" in result.stderr
    assert "Traceback" not in result.stderr
