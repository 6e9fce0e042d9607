"""Protected accounts in ad-hoc runs against the real sandbox over loopback: held back,
counted, recorded per target, never sent (not even by a resume); lifted only by a person
with a reason; and a protection that cannot be resolved stops the run before anything is
sent."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path
from typing import Any

from tests.executor.conftest import Ircli, Platform, write_ids


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    """The environment of a run whose ``ircli.yaml`` (user config dir) holds ``text``."""
    home = tmp_path / "xdg"
    (home / "ircli").mkdir(parents=True, exist_ok=True)
    (home / "ircli" / "ircli.yaml").write_text(text)
    return {"XDG_CONFIG_HOME": str(home)}


def _config_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "ircli" / "ircli.yaml"


def _status(platform: Platform, account: str) -> str:
    return str(platform.get(f"/api/v1/accounts/{account}")["status"])


def _items(platform: Platform, listing: str, **filters: str) -> list[dict[str, Any]]:
    response = platform.control.get(f"/api/v1/{listing}", params={**filters, "limit": 1000})
    response.raise_for_status()
    return list(response.json()["items"])


def _requests(platform: Platform) -> int:
    return int(platform.score()["requests_total"])


def test_ids_and_a_listing_filter_are_held_back_counted_and_recorded(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    cluster = platform.get("/api/v1/accounts/acc_0000010")["ip_cluster"]
    members = [item["id"] for item in _items(platform, "accounts", ip_cluster=cluster)]
    assert "acc_0000010" in members
    assert len(members) > 1  # the listing protects more than the ids it was asked about
    env = _config(
        tmp_path,
        "protected:\n  accounts:\n    ids: [acc_0000002]\n    listings:\n"
        f"      - {{listing: accounts, filters: {{ip_cluster: {cluster}}}}}\n",
    )
    targets = ["acc_0000001", "acc_0000002", "acc_0000010"]
    ids = write_ids(tmp_path / "ids.txt", targets)

    result = ircli("--json", "accounts", "freeze", "--ids-file", str(ids), "--yes", **env)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["counts"]["done"] == 1
    assert summary["counts"]["protected"] == 2
    assert summary["targets"] == 3
    assert "2 of the 3 targets are protected accounts" in result.stderr
    assert [_status(platform, account) for account in targets] == ["frozen", "active", "active"]
    shown = ircli.json("runs", "show", summary["run"], **env)
    assert shown["counts"]["protected"] == 2
    protection = shown["protection"]
    expected = sorted({"acc_0000002", *members})
    assert protection["ids"] == len(expected)
    assert protection["sha256"] == hashlib.sha256("\n".join(expected).encode()).hexdigest()
    assert protection["override_protected"] is False
    config = protection["sources"][-1]
    assert (config["from"], config["ids"]) == ("config", 1)
    assert config["listings"][0]["ids"] == len(members)
    assert protection["http_requests"]["listing"] >= 1  # its read, counted with the run
    assert shown["http_requests"]["listing"] >= 1
    # Each refusal is on record for the target itself; no intent was ever written for it.
    for account in ("acc_0000002", "acc_0000010"):
        entries = ircli.json("audit", "log", "--target", account, **env)
        assert [(e["kind"], e["outcome"], e["attempts"]) for e in entries] == [
            ("action.outcome", "protected", 0)
        ]


def test_streams_of_a_protected_account_are_held_back_where_a_read_showed_them(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    viewers = sorted(
        (s["viewers"] for s in _items(platform, "streams", status="live")), reverse=True
    )
    least = viewers[7]  # the most watched live streams: eight or so
    chosen = _items(platform, "streams", status="live", min_viewers=str(least))
    owner = chosen[1]["account_id"]
    env = _config(tmp_path, f"protected:\n  accounts:\n    ids: [{owner}]\n")
    held = [s["id"] for s in chosen if s["account_id"] == owner]
    where = ["--where", "status=live", "--where", f"min_viewers={least}"]

    summary = ircli.json("streams", "suspend", *where, "--yes", **env)

    assert summary["counts"]["protected"] == len(held)
    assert summary["counts"]["done"] == len(chosen) - len(held)
    for stream in chosen:
        status = platform.get(f"/api/v1/streams/{stream['id']}")["status"]
        assert (status == "live") == (stream["id"] in held), stream
    # By id alone, a stream's account is unknown without another read: it is sent
    # (docs/profiles.md says what is covered).
    by_id = ircli.json("streams", "suspend", "--id", held[0], "--yes", **env)
    assert by_id["counts"]["done"] == 1


def test_only_a_person_with_a_reason_overrides_protection(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    env = _config(tmp_path, "protected:\n  accounts:\n    ids: [acc_0000002]\n")
    before = _requests(platform)
    bare = ircli(
        "accounts", "freeze", "--id", "acc_0000002", "--yes", "--override-protected", **env
    )
    assert bare.returncode == 2
    assert "--override-protected needs --reason" in bare.stderr
    assert _requests(platform) == before  # refused before anything was read or sent

    result = ircli(
        "--json", "accounts", "freeze", "--id", "acc_0000002", "--yes", "--override-protected",
        "--reason", "staff account taken over", **env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "--override-protected: this run may act on 1 protected accounts" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["counts"]["done"] == 1
    assert _status(platform, "acc_0000002") == "frozen"
    protection = ircli.json("runs", "show", summary["run"], **env)["protection"]
    assert protection["override_protected"] is True
    assert protection["operator"] == "tester"
    assert protection["override_reason"] == "staff account taken over"


def test_protection_that_cannot_be_resolved_stops_the_run(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    refused_filter = _config(
        tmp_path,
        "protected:\n  accounts:\n    listings:\n"
        "      - {listing: accounts, filters: {ip_cluster: nonsense}}\n",
    )
    result = ircli("accounts", "freeze", "--id", "acc_0000003", "--yes", **refused_filter)
    assert result.returncode == 2
    assert (
        f"error: {_config_file(refused_filter)}:4:9: protected -> accounts -> listings -> 0:"
        in (result.stderr)
    )
    assert f"reading the listing 'accounts' at {platform.url}/api/v1/accounts failed" in (
        result.stderr
    )
    platform.faults(**{"5xx": 1.0, "retry_after": 0})
    down = ircli("accounts", "freeze", "--id", "acc_0000003", "--yes", **refused_filter)
    platform.faults()
    assert down.returncode == 1
    assert "the protected accounts cannot be resolved, so nothing is sent" in down.stderr
    assert f"{platform.url}/api/v1/accounts" in down.stderr
    assert _status(platform, "acc_0000003") == "active"
    refusals = ircli.json("audit", "log", "--kind", "run.refused")
    assert len(refusals) == 2
    assert all(
        r["params"]["reason"].startswith("protected accounts unresolved: ") for r in refusals
    )
    assert ircli.json("audit", "log", "--kind", "run.started") == []


def test_a_bad_protected_block_is_a_located_error(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    env = _config(tmp_path, "protected:\n  accounts:\n    listings:\n      - {listing: acounts}\n")
    before = _requests(platform)
    result = ircli("accounts", "freeze", "--id", "acc_0000003", "--yes", **env)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: {_config_file(env)}:4:19: protected -> accounts -> listings -> 0 -> listing: "
        "the profile has no listing 'acounts' (did you mean 'accounts'?)"
    )
    assert _requests(platform) == before


def test_a_resume_never_sends_a_protected_target(
    ircli: Ircli, platform: Platform, tmp_path: Path
) -> None:
    targets = [f"acc_00001{i:02d}" for i in range(8)]
    env = _config(tmp_path, f"protected:\n  accounts:\n    ids: [{targets[0]}]\n")
    ids = write_ids(tmp_path / "ids.txt", targets)
    argv = ("accounts", "freeze", "--ids-file", str(ids), "--concurrency", "1", "--yes")
    crashed = ircli(*argv, IRCLI_TEST_CRASH_AT="after-send:3", **env)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    run = ircli.json("runs", "list", **env)[0]["run"]
    # Protected since the crash: held back by the resume, with the first one.
    _config_file(env).write_text(
        f"protected:\n  accounts:\n    ids: [{targets[0]}, {targets[-1]}]\n"
    )

    resumed = ircli.json("runs", "resume", run, "--yes", **env)

    assert resumed["status"] == "completed"
    assert resumed["counts"]["protected"] == 2
    assert resumed["counts"]["done"] + resumed["counts"]["already_done"] == 6
    assert [_status(platform, t) for t in targets] == ["active", *["frozen"] * 6, "active"]
    first = ircli.json("audit", "log", "--target", targets[0], **env)
    assert [(e["kind"], e["outcome"]) for e in first] == [("action.outcome", "protected")]
    # The last one had its intent written before the crash (intents go 512 targets at a
    # time), but was never sent: the resume held it back.
    last = ircli.json("audit", "log", "--target", targets[-1], **env)
    assert [(e["kind"], e["outcome"]) for e in last] == [
        ("action.intent", None),
        ("action.outcome", "protected"),
    ]
