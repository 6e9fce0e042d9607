"""Settings resolution: flag > environment variable > config file > built-in default.

The config file is ``ircli.yaml`` in the working directory, else ``ircli.yaml`` in the user
config dir (``platformdirs.user_config_dir("ircli")``). Only the first one found is read.
Nothing here reads global state: the caller passes the environment mapping and directories.
"""

from __future__ import annotations

import difflib
import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ircli.errors import InvalidInput

__all__ = ["CONFIG_FILENAME", "SETTINGS", "Settings", "find_config_file", "resolve_settings"]

CONFIG_FILENAME = "ircli.yaml"


@dataclass(frozen=True)
class SettingSpec:
    """One configurable value: its file key, env var and type."""

    key: str
    env: str
    kind: type
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("db", "IRCLI_DB", str, "audit store: a SQLAlchemy URL or a SQLite file path"),
    SettingSpec("operator", "IRCLI_OPERATOR", str, "who is acting (recorded on every record)"),
    SettingSpec("max_targets", "IRCLI_MAX_TARGETS", int, "refuse actions over more targets"),
    SettingSpec("profile", "IRCLI_PROFILE", str, "platform profile name or path"),
)
_BY_KEY = {spec.key: spec for spec in SETTINGS}
_BLOCKS = ("webhooks", "dsa", "protected")
"""Keys of the config file that are not settings: read where they are used."""

DEFAULT_MAX_TARGETS = 50_000


@dataclass(frozen=True)
class Settings:
    """The resolved settings a command runs with, and where each came from."""

    db: str
    operator: str
    max_targets: int
    profile: str | None
    config_file: Path | None
    sources: Mapping[str, str]
    webhooks: Mapping[str, str] = field(default_factory=dict)
    """Named webhook URLs for playbook ``notify`` steps (config file key ``webhooks``)."""


def find_config_file(cwd: Path, user_config_dir: Path) -> Path | None:
    """The config file in force, if any."""
    for candidate in (cwd / CONFIG_FILENAME, user_config_dir / CONFIG_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Load and check a config file; unknown keys and wrong types are located errors."""
    from ircli.yamlfile import load_yaml_file

    loaded = load_yaml_file(path)
    if loaded.data is None:
        return {}
    if not isinstance(loaded.data, dict):
        raise loaded.error((), "the config file must be a mapping of setting names to values.")
    values: dict[str, Any] = {}
    for key, value in loaded.data.items():
        if key == "webhooks":
            values[key] = _webhooks(loaded, value)
            continue
        if key == "dsa":  # read with its shape where it is used (ircli.dsarules.Reasons)
            if not isinstance(value, dict):
                raise loaded.error((key,), "expected a mapping of statement fields to values.")
            continue
        if key == "protected":  # read with the profile it applies to (ircli.platform.protected)
            if not isinstance(value, dict):
                raise loaded.error((key,), "expected a mapping such as accounts: {ids: [...]}.")
            continue
        spec = _BY_KEY.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, [*_BY_KEY, *_BLOCKS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise loaded.error((key,), f"unknown setting{hint}.", at_key=True)
        if spec.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise loaded.error((key,), f"expected an integer, got {value!r}.")
        if spec.kind is str and not isinstance(value, str):
            raise loaded.error(
                (key,), f"expected a string, got {value!r}.", hint="Quote the value."
            )
        values[key] = value
    return values


def resolve_settings(
    *,
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    user_config_dir: Path,
    user_data_dir: Path,
) -> Settings:
    """Resolve every setting by precedence: flag > env > config file > default."""
    config_file = find_config_file(cwd, user_config_dir)
    from_file = read_config_file(config_file) if config_file else {}
    defaults: dict[str, Any] = {
        "db": str(user_data_dir / "audit.db"),
        "operator": _os_user(env),
        "max_targets": DEFAULT_MAX_TARGETS,
        "profile": None,
    }
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        if flags.get(spec.key) is not None:
            chosen[spec.key], sources[spec.key] = flags[spec.key], "flag"
        elif spec.key == "db" and spec.env in env and not env[spec.env].strip():
            # Set but empty (a typo in a script): never fall back to the default store.
            raise InvalidInput(
                f"{spec.env} is set but empty; name the audit store, or unset it for the "
                f"default ({defaults['db']})."
            )
        elif env.get(spec.env):
            chosen[spec.key] = _from_env(spec, env[spec.env])
            sources[spec.key] = f"env {spec.env}"
        elif spec.key in from_file:
            chosen[spec.key], sources[spec.key] = from_file[spec.key], f"file {config_file}"
        else:
            chosen[spec.key], sources[spec.key] = defaults[spec.key], "default"
    operator = str(chosen["operator"]).strip()
    if not operator:
        raise InvalidInput("the operator name must not be empty.")
    return Settings(
        db=str(chosen["db"]),
        operator=operator,
        max_targets=int(chosen["max_targets"]),
        profile=chosen["profile"],
        config_file=config_file,
        sources=sources,
        webhooks=from_file.get("webhooks", {}),
    )


def _webhooks(loaded: Any, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise loaded.error(("webhooks",), "expected a mapping of names to http(s) URLs.")
    hooks = {}
    for name, url in value.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise loaded.error(("webhooks", name), "expected an http(s) URL.")
        hooks[str(name)] = url
    return hooks


def _from_env(spec: SettingSpec, raw: str) -> Any:
    if spec.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(f"{spec.env}={raw!r} is not an integer.") from None
    return raw


def _os_user(env: Mapping[str, str]) -> str:
    for name in ("USER", "LOGNAME", "USERNAME"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
