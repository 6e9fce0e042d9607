"""The first hour: a wrong token or a platform that is down is said at once, on stderr, with
the URL and the cause; a run never sends thousands of doomed requests (over real HTTP, to
raw-socket peers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ircli.audit.records import RecordFilter
from ircli.audit.store import open_store
from tests.peers import RawServer, response, write_profile

AUTH = "auth: {type: bearer, secret: {env: PEER_TOKEN}}\n"
UNAUTHORIZED = response("401 Unauthorized", b'{"error": "invalid token"}')


def _ids(tmp_path: Path, count: int) -> str:
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"u{n}\n" for n in range(count)))
    return str(path)


def _profile(tmp_path: Path, url: str, limits: str = "{retries: 2, backoff_base: 10ms}") -> str:
    return str(write_profile(tmp_path, url, settings=f"{AUTH}limits: {limits}\n"))


def _lines(peer: RawServer) -> list[str]:
    return [r.split(b"\r\n", 1)[0].decode() for r in peer.requests]


def test_a_wrong_token_is_said_at_once_and_nothing_is_sent(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    with RawServer(lambda _: UNAUTHORIZED).running() as peer:
        result = cli("accounts", "freeze", "--ids-file", _ids(tmp_path, 2000),
                     "--profile", _profile(tmp_path, peer.url), "--yes",
                     env={"PEER_TOKEN": "wrong"})  # fmt: skip
    assert result.exit_code == 1
    assert f"{peer.url}/users answered 401" in result.stderr
    assert "profile 'peer'" in result.stderr
    assert "env PEER_TOKEN" in result.stderr
    assert "wrong" not in result.stderr.replace("wrong token", "")
    assert _lines(peer) == ["GET /users HTTP/1.1"], "one read (this listing has no paging)"
    with open_store(str(db_path), operator="checker") as store:
        kinds = [r.kind for r in store.records(RecordFilter(kinds=("run.",)))]
    assert kinds == ["run.refused"]


def test_a_platform_that_is_down_is_said_within_seconds(cli: Any, tmp_path: Path) -> None:
    with RawServer(lambda _: None).running() as peer:
        url = peer.url  # closed when the block ends: connections are refused
    result = cli("accounts", "freeze", "--id", "u1", "--profile", _profile(tmp_path, url),
                 "--yes", env={"PEER_TOKEN": "t"})  # fmt: skip
    assert result.exit_code == 1
    assert f"cannot reach {url}/users: cannot connect to 127.0.0.1:" in result.stderr
    assert "nothing was sent" in result.stderr


def test_without_preflight_a_few_refusals_in_a_row_pause_the_run(cli: Any, tmp_path: Path) -> None:
    with RawServer(lambda _: UNAUTHORIZED).running() as peer:
        result = cli("accounts", "freeze", "--ids-file", _ids(tmp_path, 2000),
                     "--profile", _profile(tmp_path, peer.url, "{concurrency: 2}"), "--yes",
                     "--skip-preflight", env={"PEER_TOKEN": "wrong"})  # fmt: skip
    assert result.exit_code == 1
    assert "refused the credentials 5 times in a row (HTTP 401 from" in result.stderr
    assert "ircli runs resume RUN-" in result.stderr
    assert len(peer.requests) <= 5 + 2, "no more than the in-flight requests after the fifth"


def test_the_breaker_is_announced_at_once_and_a_long_outage_pauses(
    cli: Any, tmp_path: Path
) -> None:
    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET "):
            return response(body=b"[]")
        return response("503 Service Unavailable", b"{}")

    limits = "{breaker_failures: 3, breaker_probe: 200ms, retries: 50, retry_budget: 50}"
    with RawServer(answer).running() as peer:
        result = cli("accounts", "freeze", "--ids-file", _ids(tmp_path, 20),
                     "--profile", _profile(tmp_path, peer.url, limits), "--yes",
                     "--max-pause", "1", env={"PEER_TOKEN": "t"})  # fmt: skip
    assert result.exit_code == 1
    assert f"platform failing at {peer.url}/users/" in result.stderr
    assert "(HTTP 503; 3 in a row): requests paused, next health probe in 0.2 s" in result.stderr
    assert "the platform stayed down for more than 1 s (last: HTTP 503 from" in result.stderr
    assert "ircli runs resume RUN-" in result.stderr


def test_the_platforms_own_words_are_quoted_and_a_rejected_filter_is_bad_input(
    cli: Any, tmp_path: Path
) -> None:
    said = b'{"error": {"code": "invalid_filter", "message": "q must be one of a, b.\\n"}}'
    with RawServer(lambda _: response("422 Unprocessable Entity", said)).running() as peer:
        result = cli("accounts", "freeze", "--where", "q=liv", "--profile",
                     _profile(tmp_path, peer.url), "--yes", "--skip-preflight",
                     env={"PEER_TOKEN": "t"})  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert (
        f"reading the listing 'users' at {peer.url}/users failed: the platform answered 422 "
        'Unprocessable Entity: "invalid_filter: q must be one of a, b.".'
    ) in result.stderr
