"""The execution environment as one injectable object (streams, variables, dirs, clock).

``main()`` builds the real one; tests build their own and run the whole CLI in-process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ircli.clock import Clock, system_clock

__all__ = ["Environment"]


@dataclass
class Environment:
    """Everything a command may read from or write to outside its arguments."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    config_dir: Path | None = None
    data_dir: Path | None = None
    clock: Clock = system_clock
    stdin_isatty: bool | None = None

    def user_config_dir(self) -> Path:
        """The per-user config dir (``platformdirs``) unless overridden."""
        if self.config_dir is not None:
            return self.config_dir
        import platformdirs

        return Path(platformdirs.user_config_dir("ircli", appauthor=False))

    def user_data_dir(self) -> Path:
        """The per-user data dir (``platformdirs``) unless overridden."""
        if self.data_dir is not None:
            return self.data_dir
        import platformdirs

        return Path(platformdirs.user_data_dir("ircli", appauthor=False))

    def interactive(self) -> bool:
        """Whether a human can answer a prompt on stdin."""
        if self.stdin_isatty is not None:
            return self.stdin_isatty
        return self.stdin.isatty()
