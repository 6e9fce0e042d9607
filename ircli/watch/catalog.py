"""The watch files shipped with ircli (``watch/`` next to the package)."""

from __future__ import annotations

from pathlib import Path

import ircli

__all__ = ["shipped_watch_dir"]


def shipped_watch_dir() -> Path:
    """The shipped ``watch/``: inside the installed package (``ircli/shipped/``, from a wheel),
    or next to the package in a source checkout."""
    package = Path(ircli.__file__).resolve().parent
    installed = package / "shipped" / "watch"
    return installed if installed.is_dir() else package.parent / "watch"
