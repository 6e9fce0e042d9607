"""Secrets come from env, keyring or a private file; they are registered for redaction."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import keyring
import keyring.errors
import pytest

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from ircli.platform.model import Profile, SecretRef
from ircli.platform.secrets import auth_headers, resolve_secret
from ircli.redaction import REDACTED, Redactor
from tests.keyrings import MemoryKeyring, memory_keyring

__all__ = ["memory_keyring"]

SECRET = "CANARY-profile-secret-91c2"


def profile(auth: str, base_url: str = "https://x.example", source: str = "p.yaml") -> Profile:
    text = f"profile: 1\nname: p\nbase_url: {base_url}\nauth: {auth}\n"
    return load_profile_text(text, source)


def test_bearer_from_env_is_registered_with_the_redactor() -> None:
    redactor = Redactor()
    headers = auth_headers(
        profile("{type: bearer, secret: {env: P_TOKEN}}"), {"P_TOKEN": SECRET}, redactor
    )
    assert headers == {"Authorization": f"Bearer {SECRET}"}
    assert redactor.text(f"sent {SECRET}") == f"sent {REDACTED}"


def test_header_and_basic_auth() -> None:
    env = {"P_TOKEN": SECRET}
    header = profile("{type: header, header: X-Api-Token, secret: {env: P_TOKEN}}")
    assert auth_headers(header, env, Redactor()) == {"X-Api-Token": SECRET}
    redactor = Redactor()
    basic = auth_headers(
        profile("{type: basic, username: ops, secret: {env: P_TOKEN}}"), env, redactor
    )
    encoded = base64.b64encode(f"ops:{SECRET}".encode()).decode()
    assert basic == {"Authorization": f"Basic {encoded}"}
    assert encoded not in redactor.text(f"header {encoded}")


def test_no_auth() -> None:
    assert auth_headers(profile("{type: none}"), {}, Redactor()) == {}


def test_missing_env_secret_says_which_variable() -> None:
    with pytest.raises(InvalidInput) as caught:
        auth_headers(profile("{type: bearer, secret: {env: P_TOKEN}}"), {}, Redactor())
    assert caught.value.message == (
        "the environment variable P_TOKEN is not set; profile 'p' reads its secret from it."
    )


def test_loopback_default_only_on_loopback() -> None:
    text = "{type: bearer, secret: {env: P_TOKEN, loopback_default: dev-token}}"
    local = profile(text, base_url="http://127.0.0.1:8700")
    assert auth_headers(local, {}, Redactor()) == {"Authorization": "Bearer dev-token"}
    assert auth_headers(local, {"P_TOKEN": SECRET}, Redactor())["Authorization"].endswith(SECRET)
    # The same profile pointed elsewhere through the environment must not use the default.
    moved = load_profile_text(
        "profile: 1\nname: p\nbase_url: {env: P_URL, default: 'http://localhost:8700'}\n"
        f"auth: {text}\n",
        "p.yaml",
        {"P_URL": "https://prod.example"},
    )
    with pytest.raises(InvalidInput, match="P_TOKEN is not set"):
        auth_headers(moved, {}, Redactor())


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


def test_private_file_is_read(secret_file: Path) -> None:
    ref = SecretRef(file=str(secret_file))
    assert resolve_secret(ref, {}) == SECRET
    os.chmod(secret_file, 0o400)
    assert resolve_secret(ref, {}) == SECRET


def test_relative_and_home_file_paths(secret_file: Path) -> None:
    assert resolve_secret(SecretRef(file="token"), {}, base_dir=secret_file.parent) == SECRET
    home = {"HOME": str(secret_file.parent)}
    assert resolve_secret(SecretRef(file="~/token"), home) == SECRET
    file_profile = profile(
        "{type: bearer, secret: {file: token}}", source=str(secret_file.parent / "p.yaml")
    )
    assert auth_headers(file_profile, {}, Redactor()) == {"Authorization": f"Bearer {SECRET}"}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_file_readable_by_others_is_refused(secret_file: Path, mode: int) -> None:
    secret_file.chmod(mode)
    with pytest.raises(InvalidInput) as caught:
        resolve_secret(SecretRef(file=str(secret_file)), {})
    assert caught.value.message == (
        f"{secret_file}: the secret file is readable by others (mode {mode:04o}); it must be 0600."
    )
    assert caught.value.hint == f"Run: chmod 600 {secret_file}"
    assert SECRET not in caught.value.message


def test_file_owned_by_someone_else_is_refused(
    secret_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getuid", lambda: os.stat(secret_file).st_uid + 1)
    with pytest.raises(InvalidInput, match="belongs to another user"):
        resolve_secret(SecretRef(file=str(secret_file)), {})


def test_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the secret file"):
        resolve_secret(SecretRef(file=str(tmp_path / "nope")), {})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(InvalidInput, match="the secret file is empty"):
        resolve_secret(SecretRef(file=str(empty)), {})
    with pytest.raises(InvalidInput, match="not a regular file"):
        resolve_secret(SecretRef(file=str(tmp_path)), {})


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("no backend")


def test_keyring_secret(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("ircli/mastodon", "ops", SECRET)
    keyed = profile("{type: bearer, secret: {keyring: ircli/mastodon/ops}}")
    assert auth_headers(keyed, {}, Redactor()) == {"Authorization": f"Bearer {SECRET}"}
    with pytest.raises(InvalidInput) as caught:
        resolve_secret(SecretRef(keyring="ircli/mastodon/nobody"), {})
    assert caught.value.message == (
        "the OS keyring holds no secret for service 'ircli/mastodon' and user 'nobody'."
    )


def test_keyring_without_backend(memory_keyring: MemoryKeyring) -> None:
    keyring.set_keyring(BrokenKeyring())
    with pytest.raises(InvalidInput, match="no keyring backend is available"):
        resolve_secret(SecretRef(keyring="svc/user"), {})


def test_keyring_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(InvalidInput, match="the keyring package is not installed"):
        resolve_secret(SecretRef(keyring="svc/user"), {})


@pytest.mark.parametrize("stray", ["\n", "\r\n", "\nX-Injected: yes", "\x00", "\r\n\r\nGET /"])
def test_a_secret_with_a_line_break_never_becomes_a_header(stray: str) -> None:
    profile = load_profile_text(
        "profile: 1\nname: demo\nbase_url: https://admin.example\n"
        "auth:\n  type: bearer\n  secret: {env: DEMO_TOKEN}\n",
        "demo.yaml",
    )
    redactor = Redactor()
    with pytest.raises(InvalidInput) as caught:
        auth_headers(profile, {"DEMO_TOKEN": f"tok-s3cret{stray}"}, redactor)
    message = f"{caught.value.message} {caught.value.hint}"
    assert caught.value.message == (
        "demo.yaml:6:11: the auth secret read from env DEMO_TOKEN holds a control character "
        "(a line break?), which cannot go into a header."
    )
    assert "tok-s3cret" not in message
    assert "tok-s3cret" not in redactor.text(f"sent tok-s3cret{stray}")
