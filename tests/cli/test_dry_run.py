"""``--dry-run``: what would be sent, keys only where the profile sends them; nothing sent."""

from __future__ import annotations

import json

from tests.conftest import CliRunner


def test_a_profile_with_a_key_header_shows_the_keys(cli: CliRunner) -> None:
    result = cli("--json", "accounts", "freeze", "--id", "acc_1", "--id", "acc_2",
                 "--profile", "sandbox", "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["targets"], data["idempotency_header"]) == (2, "Idempotency-Key")
    assert data["idempotency_keys_for_run"] == "RUN-DRYRUN"
    assert all(r["idempotency_key"].startswith("ircli-") for r in data["requests"])


def test_a_profile_without_one_shows_none(cli: CliRunner) -> None:
    result = cli("--json", "accounts", "freeze", "--id", "123", "--profile", "mastodon",
                 "--dry-run", env={"MASTODON_URL": "https://m.example"})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["idempotency_header"] is None
    assert [r["idempotency_key"] for r in data["requests"]] == [None]
    assert data["requests"][0]["path"] == "/api/v1/admin/accounts/123/action"
