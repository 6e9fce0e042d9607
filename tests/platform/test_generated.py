"""Values generated per target (a new password in the reset request, as Matrix Synapse takes
it): random per target, the same on every attempt, delivered to the owner's channel and shown
nowhere else."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ircli.errors import InvalidInput
from ircli.executor.delivery import generator_for
from ircli.platform.generate import ALPHABETS, GENERATED, Generator
from ircli.platform.loader import load_profile_text
from tests.peers import RawServer, response, write_profile

ACTION = (
    "actions:\n"
    "  accounts.reset_password:\n"
    "    target: users\n"
    "    request:\n"
    "      method: POST\n"
    "      path: '/_synapse/admin/v1/reset_password/{target}'\n"
    "      json: {new_password: '{generate.password}', logout_devices: true}\n"
    "    generate:\n"
    "      password: {length: 20, alphabet: printable}\n"
    "    idempotent: true\n"
)


def _profile(tmp_path: Path, url: str, extra: str = "") -> Path:
    settings = "limits: {retries: 3, backoff_base: 10ms}\n"
    return write_profile(tmp_path, url, settings=settings, actions=ACTION + extra, name="synapse")


def _body(request: bytes) -> dict[str, Any]:
    return json.loads(request.partition(b"\r\n\r\n")[2])


def _posts(peer: RawServer) -> list[bytes]:
    """The actions sent (not the preflight read)."""
    return [r for r in peer.requests if r.startswith(b"POST ")]


def _target(request: bytes) -> str:
    return request.split(b" ", 2)[1].decode().rsplit("/", 1)[1]


class _FirstAttemptFails:
    """503 to the first request for ``u1``, 200 to everything else."""

    def __init__(self) -> None:
        self.failed = False

    def __call__(self, request: bytes) -> bytes:
        if request.startswith(b"GET "):  # the preflight read of the listing
            return response(body=b"[]")
        if _target(request) == "u1" and not self.failed:
            self.failed = True
            return response("503 Service Unavailable", b'{"errcode": "M_UNKNOWN"}')
        return response(body=b"{}")


def test_values_are_per_target_stable_and_from_the_alphabet() -> None:
    spec = load_profile_text(
        "profile: 1\nname: s\nbase_url: http://127.0.0.1:9\n"
        "listings:\n  users: {path: /users, id: id}\n" + ACTION, "s.yaml", {}
    ).actions["accounts.reset_password"].generate  # fmt: skip
    one, other = Generator(spec), Generator(spec)
    first = one.values("u1")["password"]
    assert first == one.values("u1")["password"], "every attempt sends the same value"
    assert first != one.values("u2")["password"]
    assert first != other.values("u1")["password"], "another run, another value"
    assert Generator(spec, one.key).values("u1") == one.values("u1")
    assert len(first) == 20
    assert set("".join(one.values(f"u{i}")["password"] for i in range(200))) <= set(
        ALPHABETS["printable"]
    )


def test_a_resume_reads_the_same_key_and_refuses_without_it(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "http://127.0.0.1:9").read_text()
    action = load_profile_text(profile, "s.yaml", {}).actions["accounts.reset_password"]
    first = generator_for(action, "RUN-A", tmp_path, resuming=False)
    key_file = tmp_path / "generated" / "RUN-A.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    again = generator_for(action, "RUN-A", tmp_path, resuming=True)
    assert again.values("u9") == first.values("u9")
    key_file.unlink()
    with pytest.raises(InvalidInput, match="the key of RUN-A's generated values is gone"):
        generator_for(action, "RUN-A", tmp_path, resuming=True)


def test_a_run_sends_retries_identically_delivers_to_a_private_file_and_stores_nothing(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    with RawServer(_FirstAttemptFails()).running() as peer:
        profile = str(_profile(tmp_path, peer.url))
        dry = cli("--json", "accounts", "reset-password", "--id", "u1", "--profile", profile,
                  "--dry-run")  # fmt: skip
        real = cli("--json", "accounts", "reset-password", "--id", "u1", "--id", "u2",
                   "--id", "u3", "--profile", profile, "--yes")  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["requests"][0]["json"]["new_password"] == GENERATED
    assert real.exit_code == 0, real.stderr
    sent: dict[str, list[str]] = {}
    for request in _posts(peer):
        sent.setdefault(_target(request), []).append(_body(request)["new_password"])
    assert len(sent["u1"]) == 2, "the 503 was retried"
    assert sent["u1"][0] == sent["u1"][1], "the retry carries the same value"
    passwords = {target: values[0] for target, values in sent.items()}
    assert len(set(passwords.values())) == 3
    run = json.loads(real.stdout.strip().splitlines()[-1])["run"]
    delivered = tmp_path / "data" / "generated" / f"{run}.tsv"
    assert stat.S_IMODE(delivered.stat().st_mode) == 0o600
    assert not delivered.with_suffix(".key").exists(), "completed: the key is gone"
    lines = delivered.read_text().splitlines()
    assert sorted(lines) == sorted(f"{t}\tpassword\t{p}" for t, p in passwords.items())
    store = db_path.read_bytes()
    for password in passwords.values():
        assert password.encode() not in store
        for output in (dry, real):
            assert password not in output.stdout + output.stderr


def test_delivery_to_a_command(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "handed-over.jsonl"
    script = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    deliver = f"    deliver: {{command: [{sys.executable}, -c, {json.dumps(script)}]}}\n"
    with RawServer(lambda _: response(body=b"{}")).running() as peer:
        profile = str(_profile(tmp_path, peer.url, deliver))
        result = cli("accounts", "reset-password", "--id", "u1", "--id", "u2",
                     "--profile", profile, "--yes")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    handed = [json.loads(line) for line in out.read_text().splitlines()]
    sent = {_target(r): _body(r)["new_password"] for r in _posts(peer)}
    assert {h["target"]: h["password"] for h in handed} == sent
    assert list((tmp_path / "data" / "generated").glob("*.tsv")) == [], "no file as well"


def test_a_failing_delivery_command_is_said_and_not_exit_0(cli: Any, tmp_path: Path) -> None:
    deliver = f"    deliver: {{command: [{sys.executable}, -c, 'import sys; sys.exit(3)']}}\n"
    with RawServer(lambda _: response(body=b"{}")).running() as peer:
        profile = str(_profile(tmp_path, peer.url, deliver))
        result = cli("accounts", "reset-password", "--id", "u1", "--profile", profile, "--yes")
    assert result.exit_code == 1
    assert "delivering the generated values" in result.stderr
    assert "may not have reached their owners" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "'/_synapse/admin/v1/reset_password/{target}'",
                "'/reset/{target}/{generate.password}'",
            ),
            "may not go into the path",
        ),
        (
            (
                "      json: {new_password",
                "      headers: {X-New: '{generate.password}'}\n      json: {new_password",
            ),
            "may not go into the headers",
        ),
        (("'{generate.password}'", "'{generate.pasword}'"), "declares no 'pasword'"),
        (
            ("    generate:\n      password: {length: 20, alphabet: printable}\n", ""),
            "declares no 'password'",
        ),
        (("length: 20", "length: 4"), "length: must be at least 8, got 4"),
        (
            (
                "logout_devices: true}",
                "logout_devices: true}\n      query: {p: '{generate.password}'}",
            ),
            "may not go into the query",
        ),
    ],
)
def test_generated_value_mistakes_are_refused_where_written(
    change: tuple[str, str], message: str
) -> None:
    text = ("profile: 1\nname: s\nbase_url: http://127.0.0.1:9\n"
            "listings:\n  users: {path: /users, id: id}\n" + ACTION)  # fmt: skip
    assert change[0] in text
    with pytest.raises(InvalidInput, match=message):
        load_profile_text(text.replace(change[0], change[1]), "s.yaml", {})


def test_deliver_without_generate_is_refused() -> None:
    text = (
        "profile: 1\nname: s\nbase_url: http://127.0.0.1:9\n"
        "actions:\n  a.b:\n    request: {method: POST, path: '/x/{target}'}\n"
        "    idempotent: true\n    deliver: {command: [cat]}\n"
    )
    with pytest.raises(InvalidInput, match="deliver needs values to deliver"):
        load_profile_text(text, "s.yaml", {})


def test_a_value_the_platform_echoes_is_masked_in_the_audit(
    cli: Any, tmp_path: Path, db_path: Path
) -> None:
    """A platform that quotes the request back in its error (raw, JSON-escaped and
    percent-encoded) leaves no trace of the value in the store or the output."""

    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET "):  # the preflight read of the listing
            return response(body=b"[]")
        value = _body(request)["new_password"]
        echo = {"error": {"code": "weak", "message": f"{value} | {quote(value, safe='')}"}}
        return response("400 Bad Request", json.dumps(echo).encode())

    with RawServer(answer).running() as peer:
        profile = str(_profile(tmp_path, peer.url))
        result = cli("--json", "accounts", "reset-password", "--id", "u1", "--profile", profile,
                     "--yes")  # fmt: skip
        shown = cli("--json", "runs", "list")
    assert result.exit_code == 1
    password = _body(_posts(peer)[0])["new_password"]
    store = db_path.read_bytes()
    for form in (password, json.dumps(password)[1:-1], quote(password, safe="")):
        assert form.encode() not in store
        assert form not in result.stdout + result.stderr + shown.stdout
    assert b"[GENERATED] | [GENERATED]" in store
