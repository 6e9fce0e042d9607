"""The real server over loopback, and the ``ircli sandbox serve`` command."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ircli.sandbox import RunningServer
from tests.conftest import CliRunner
from tests.sandbox.conftest import TOKEN, all_pages, auth

ROOT = Path(__file__).resolve().parents[2]


def test_server_answers_on_loopback(server: RunningServer, http: httpx.Client) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/api/v1/streams").status_code == 401
    stream = http.get("/api/v1/streams", params={"limit": 1}).json()["items"][0]
    answer = http.post(f"/api/v1/streams/{stream['id']}/suspend").json()
    assert answer["result"] == "suspended"


def test_loopback_listing_covers_every_account_once(http: httpx.Client) -> None:
    accounts = all_pages(http, "/api/v1/accounts", limit=200)
    ids = [a["id"] for a in accounts]
    assert len(ids) == len(set(ids)) == 3_300


def test_reset_over_loopback_changes_the_world_for_another_seed(http: httpx.Client) -> None:
    first = http.get("/api/v1/streams", params={"limit": 20}).json()
    http.post("/_sandbox/reset", json={"seed": 8}).raise_for_status()
    other = http.get("/api/v1/streams", params={"limit": 20}).json()
    assert [s["account_id"] for s in first["items"]] != [s["account_id"] for s in other["items"]]
    http.post("/_sandbox/reset", json={"seed": 7}).raise_for_status()
    again = http.get("/api/v1/streams", params={"limit": 20}).json()
    assert [s["account_id"] for s in again["items"]] == [s["account_id"] for s in first["items"]]


def test_scopes_over_loopback(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, headers=auth(f"{TOKEN}:read+flags")) as client:
        assert client.get("/api/v1/flags/live_streaming").status_code == 200
        assert client.put("/_sandbox/faults", json={}).status_code == 403
        assert client.post("/api/v1/accounts/acc_0000001/freeze").status_code == 403


# -- the CLI -------------------------------------------------------------------------------


def test_serve_help_has_an_example(cli: CliRunner) -> None:
    result = cli("sandbox", "serve", "--help")
    assert result.exit_code == 0
    assert "--faults SPEC" in result.stdout
    assert "ircli sandbox serve --port 8700 --seed 7" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "5xx=2"], "error: fault 5xx must be a fraction between 0 and 1, got '2'.\n"),
        (["--faults", "drop"], "error: invalid fault 'drop': expected key=value pairs"),
        (["--scenario", "nope"], "error: unknown scenario 'nope'; known scenarios: live-flood.\n"),
        (
            ["--attack-start", "700000"],
            "error: the attack start must be between 0 and 604,800 seconds.\n",
        ),
    ],
)
def test_bad_serve_options_exit_2_with_one_sentence(
    cli: CliRunner, args: list[str], message: str
) -> None:
    result = cli("sandbox", "serve", "--port", "0", *args, env={"IRCLI_SANDBOX_TOKEN": "s3cret"})
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stdout + result.stderr


def test_serve_prints_a_ready_line_serves_and_stops_on_ctrl_c() -> None:
    command = [
        sys.executable, "-m", "ircli", "sandbox", "serve", "--port", "0", "--accounts", "2000",
        "--streams", "100", "--bots", "100", "--compromised", "5",
    ]  # fmt: skip
    env = {"IRCLI_SANDBOX_TOKEN": "s3cret-token", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("sandbox ready at http://127.0.0.1:")
        url = ready.split()[3]
        headers = auth("s3cret-token")
        assert httpx.get(f"{url}/api/v1/flags", headers=headers, timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "token from IRCLI_SANDBOX_TOKEN" in err
    assert "sandbox stopped." in err
    assert "s3cret" not in ready + out + err
