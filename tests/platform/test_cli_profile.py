"""``ircli profile validate|show|list`` in-process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner
from tests.platform.helpers import PROFILES

CANARY = "CANARY-profile-9d1f"
BAD = (
    "profile: 1\nname: bad\nbase_url: https://x.example\nactions:\n  a.b:\n"
    "    request: {method: NO, path: /x}\n    idempotent: true\n"
)


def test_validate_ok(cli: CliRunner) -> None:
    files = [str(PROFILES / f"{n}.yaml") for n in ("sandbox", "mastodon", "keycloak")]
    result = cli("profile", "validate", *files)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{files[0]}: ok (9 actions, 5 listings)",
        f"{files[1]}: ok (8 actions, 2 listings)",
        f"{files[2]}: ok (5 actions, 1 listings)",
    ]


def test_validate_reports_each_bad_file_and_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    result = cli("profile", "validate", "bad.yaml", str(PROFILES / "sandbox.yaml"), "nope.yaml")
    assert result.exit_code == 2
    assert f"{PROFILES / 'sandbox.yaml'}: ok" in result.stdout
    errors = result.stderr.splitlines()
    assert errors[0] == (
        f"error: {tmp_path / 'bad.yaml'}:6:23: actions -> a.b -> request -> method: expected a "
        "string, got a boolean (false)."
    )
    assert errors[1] == "hint: YAML reads the unquoted NO as a boolean (false); quote it: 'NO'."
    assert errors[2] == "error: nope.yaml: no such profile file."


def test_validate_json(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    result = cli("--json", "profile", "validate", "bad.yaml", "sandbox")
    assert result.exit_code == 2
    reports = json.loads(result.stdout)
    assert [r["ok"] for r in reports] == [False, True]
    assert reports[1]["actions"] == 9


def test_show_names_the_secret_source_never_the_secret(cli: CliRunner) -> None:
    env = {"IRCLI_SANDBOX_TOKEN": CANARY, "MASTODON_TOKEN": CANARY}
    text = cli("profile", "show", "sandbox", env=env)
    assert text.exit_code == 0, text.stderr
    assert "secret from env IRCLI_SANDBOX_TOKEN" in text.stdout
    assert "streams.suspend" in text.stdout
    assert "up to 500" in text.stdout
    assert "base_url: ${IRCLI_SANDBOX_URL:-http://127.0.0.1:8700}" in text.stdout
    as_json = cli("--json", "profile", "show", "mastodon", env=env)
    data = json.loads(as_json.stdout)
    assert data["auth"] == {
        "type": "bearer",
        "header": None,
        "username": None,
        "secret_source": "env MASTODON_TOKEN",
    }
    assert data["actions"]["accounts.freeze"]["idempotent"] is False
    assert data["actions"]["accounts.freeze"]["check"] is True
    for output in (text.stdout, text.stderr, as_json.stdout, as_json.stderr):
        assert CANARY not in output


def test_show_uses_the_profile_setting(cli: CliRunner) -> None:
    result = cli("profile", "show", env={"IRCLI_PROFILE": "keycloak"})
    assert result.exit_code == 0
    assert result.stdout.startswith("keycloak: Keycloak Admin REST API")
    assert "variable realm: ${KEYCLOAK_REALM:-master}" in result.stdout
    missing = cli("profile", "show")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: no profile given.")


def test_show_unknown_profile(cli: CliRunner) -> None:
    result = cli("profile", "show", "mastadon")
    assert result.exit_code == 2
    assert "(did you mean 'mastodon'?)" in result.stderr


def test_list_shows_user_and_shipped_profiles(cli: CliRunner, tmp_path: Path) -> None:
    user = tmp_path / "config" / "profiles"
    user.mkdir(parents=True)
    (user / "corp.yaml").write_text(
        "profile: 1\nname: corp\ndescription: Our admin API.\nbase_url: https://corp.example\n"
    )
    result = cli("--json", "profile", "list")
    assert result.exit_code == 0
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert entries["corp"]["origin"] == "user"
    assert entries["corp"]["description"] == "Our admin API."
    assert entries["sandbox"]["origin"] == "shipped"
    table = cli("profile", "list")
    assert "corp" in table.stdout
    assert "Our admin API." in table.stdout
