"""The current incident: the one ``ircli incident use INC`` chose, per audit store.

It lives in a small JSON file in the user's data directory, keyed by the store's URL (its
password masked), so switching stores never carries an incident id into the wrong chain.
The file is written whole (temporary file, then rename) and readable by its owner only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ircli.errors import InvalidInput

__all__ = ["CURRENT_FILE", "read_current", "write_current"]

CURRENT_FILE = "current-incident.json"


def read_current(data_dir: Path, store: str) -> str | None:
    """The incident chosen for ``store``, if any."""
    return _read(data_dir / CURRENT_FILE).get(store)


def write_current(data_dir: Path, store: str, incident: str | None) -> Path:
    """Choose ``incident`` for ``store`` (None forgets the choice); returns the file."""
    path = data_dir / CURRENT_FILE
    chosen = _read(path)
    if incident is None:
        chosen.pop(store, None)
    else:
        chosen[store] = incident
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"stores": chosen}, handle, indent=2, sort_keys=True)
        os.replace(partial, path)
    except OSError as error:
        raise InvalidInput(f"cannot write {path}: {error.strerror}.") from None
    return path


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"cannot read the current incident from {path}: {error}.",
            hint="Delete the file, then choose again with 'ircli incident use INC'.",
        ) from None
    stores = data.get("stores") if isinstance(data, dict) else None
    if not isinstance(stores, dict):
        raise InvalidInput(
            f"{path} does not hold a current incident per store.",
            hint="Delete the file, then choose again with 'ircli incident use INC'.",
        )
    return {str(key): str(value) for key, value in stores.items() if isinstance(value, str)}
