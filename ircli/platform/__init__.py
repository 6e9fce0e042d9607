"""Platform profiles: describing any REST admin API as data, and talking to it.

The public API is re-exported here lazily (``ircli.platform.load_profile`` …) so that importing
the model does not import httpx or PyYAML. Format: docs/profiles.md.

::

    resolve_profile(name_or_path, search_dirs, cwd=None) -> Path     catalog
    profile_search_dirs(user_config_dir) -> tuple[Path, ...]         catalog
    load_profile(path, env=None) -> Profile                          loader
    auth_headers(profile, env, redactor) -> dict[str, str]           secrets
    iter_items(client, profile, listing, filters) -> AsyncIterator   listing
    bind_params(action, given) -> dict[str, Any]                     params
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "auth_headers",
    "available_profiles",
    "bind_params",
    "check_filters",
    "iter_items",
    "listing_of",
    "load_profile",
    "load_profile_text",
    "profile_search_dirs",
    "resolve_profile",
    "resolve_secret",
    "secret_source",
]

_HOMES = {
    "auth_headers": "secrets",
    "resolve_secret": "secrets",
    "secret_source": "secrets",
    "available_profiles": "catalog",
    "profile_search_dirs": "catalog",
    "resolve_profile": "catalog",
    "bind_params": "params",
    "check_filters": "listing",
    "iter_items": "listing",
    "listing_of": "listing",
    "load_profile": "loader",
    "load_profile_text": "loader",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ircli.platform' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ircli.platform.{home}"), name)
