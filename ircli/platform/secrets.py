"""Resolve a profile's secret reference and build the authentication headers.

A secret is never in the profile text nor on the command line: it lives in an environment
variable, the OS keyring (through the optional ``keyring`` package, imported only when a
profile asks for it) or a file that only its owner can read (mode 0600 or 0400). Every
secret read is registered with the ``Redactor`` before it is used, so it cannot reach the
audit store, the terminal or an export.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from ircli.errors import InvalidInput
from ircli.platform.loader import is_loopback_url
from ircli.platform.model import Profile, SecretRef
from ircli.redaction import Redactor

__all__ = [
    "auth_headers",
    "check_private",
    "expand_path",
    "resolve_secret",
    "resolve_secret_variables",
    "secret_source",
]

_CONTROL = re.compile("[\x00-\x1f\x7f]")


def secret_source(ref: SecretRef) -> str:
    """Where a secret comes from, for people (``env IRCLI_SANDBOX_TOKEN``); never the value."""
    text = f"{ref.source} {ref.name}"
    if ref.loopback_default is not None:
        text += " (a development default on loopback when unset)"
    return text


def resolve_secret(
    ref: SecretRef,
    env: Mapping[str, str],
    *,
    base_url: str = "",
    base_dir: Path | None = None,
    profile: str = "the profile",
) -> str:
    """The secret value ``ref`` names; ``InvalidInput`` (one sentence) when it cannot be read.

    ``base_url`` decides whether an env secret's ``loopback_default`` may apply; ``base_dir``
    anchors a relative ``file`` path (the profile's directory).
    """
    if ref.source == "env":
        return _from_env(ref, env, base_url, profile)
    if ref.source == "keyring":
        return _from_keyring(ref.name, profile)
    return _from_file(expand_path(ref.name, env, base_dir))


def resolve_secret_variables(
    profile: Profile, env: Mapping[str, str], redactor: Redactor
) -> Profile:
    """``profile`` with its secret variables (``Profile.secrets``) read into ``variables``;
    each value is registered with ``redactor`` first, so it shows as ``[REDACTED]``."""
    if not profile.secrets:
        return profile
    base_dir = Path(profile.source).parent if profile.source else None
    values = {}
    for name, ref in profile.secrets.items():
        value = resolve_secret(
            ref,
            env,
            base_url=profile.base_url,
            base_dir=base_dir,
            profile=f"profile {profile.name!r} (variable {name})",
        )
        redactor.add_secret(value)
        values[name] = value
    return profile.model_copy(update={"variables": {**profile.variables, **values}})


def auth_headers(profile: Profile, env: Mapping[str, str], redactor: Redactor) -> dict[str, str]:
    """The headers that authenticate requests to ``profile``'s platform.

    The secret (and, for basic auth, its encoded form) is registered with ``redactor``
    before this returns.
    """
    auth = profile.auth
    if auth.kind == "none" or auth.secret is None:
        return {}
    base_dir = Path(profile.source).parent if profile.source else None
    secret = resolve_secret(
        auth.secret,
        env,
        base_url=profile.base_url,
        base_dir=base_dir,
        profile=f"profile {profile.name!r}",
    )
    redactor.add_secret(secret)
    if _CONTROL.search(secret):
        # A stray newline would end the header and start another (or the body): refuse it
        # before anything is built, naming where it came from, never the value.
        raise InvalidInput(
            # Worded without "secret:", which redaction would take for a secret's label.
            f"{auth.secret.location}: the auth secret read from {secret_source(auth.secret)} "
            "holds a control character (a line break?), which cannot go into a header.",
            hint="Store it without the line break (printf '%s' … rather than echo).",
        )
    if auth.kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    if auth.kind == "header":
        return {auth.header: secret}
    encoded = base64.b64encode(f"{auth.username}:{secret}".encode()).decode("ascii")
    redactor.add_secret(encoded)
    return {"Authorization": f"Basic {encoded}"}


def _from_env(ref: SecretRef, env: Mapping[str, str], base_url: str, profile: str) -> str:
    value = env.get(ref.name, "")
    if value:
        return value
    if ref.loopback_default is not None and is_loopback_url(base_url):
        return ref.loopback_default
    raise InvalidInput(
        f"the environment variable {ref.name} is not set; {profile} reads its secret from it.",
        hint=f"Export {ref.name} (for example from your password manager) and run again.",
    )


def _from_keyring(name: str, profile: str) -> str:
    service, _, user = name.rpartition("/")
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise InvalidInput(
            f"{profile} reads its secret from the OS keyring, but the keyring package is "
            "not installed.",
            hint="Install it (pip install keyring) or use an env or file secret.",
        ) from None
    try:
        value = keyring.get_password(service, user)
    except keyring.errors.NoKeyringError:
        raise InvalidInput(
            f"{profile} reads its secret from the OS keyring, but no keyring backend is "
            "available on this machine.",
            hint="Use an env or file secret here.",
        ) from None
    except keyring.errors.KeyringError as exc:
        raise InvalidInput(f"the OS keyring could not be read ({type(exc).__name__}).") from None
    if not value:
        raise InvalidInput(
            f"the OS keyring holds no secret for service {service!r} and user {user!r}.",
            hint=f"Store it with: keyring set {service} {user}",
        )
    return str(value)


def check_private(path: Path, what: str) -> None:
    """Refuse ``path`` unless it is a regular file of this user that nobody else can read."""
    try:
        info = path.stat()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read {what} ({exc.strerror}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{path}: {what} is not a regular file.")
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        raise InvalidInput(
            f"{path}: {what} belongs to another user; it must be your own.",
            hint=f"Copy it and run: chmod 600 {path}",
        )
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise InvalidInput(
            f"{path}: {what} is readable by others (mode {mode:04o}); it must be 0600.",
            hint=f"Run: chmod 600 {path}",
        )


def expand_path(name: str, env: Mapping[str, str], base_dir: Path | None) -> Path:
    if name == "~" or name.startswith("~/"):
        home = env.get("HOME")
        path = Path(home) / name[2:] if home else Path(name).expanduser()
    else:
        path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def _from_file(path: Path) -> str:
    check_private(path, "the secret file")
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the secret file ({type(exc).__name__}).") from None
    if not value.strip():
        raise InvalidInput(f"{path}: the secret file is empty.")
    return value
