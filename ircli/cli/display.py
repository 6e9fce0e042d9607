"""The small display vocabulary over Rich: errors, tables, JSON, safe text.

Everything that reaches the terminal from data (titles, names, notes, targets) passes through
``safe`` so that no control sequence, bidirectional override or Rich markup from data is ever
interpreted. Consoles are created with ``markup=False``; styling uses ``Text`` objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ircli.redaction import Redactor

__all__ = ["Display", "safe"]

# C0/C1 controls (except tab and newline), DEL, and the Unicode bidi/format controls that can
# make a terminal line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MAX_CELL = 200
_PIPE_WIDTH = 200


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _console(stream: TextIO) -> Console:
    # Off a terminal (pipes, files, tests) Rich would assume 80 columns and squeeze tables.
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(
        file=stream, width=width, markup=False, highlight=False, emoji=False, soft_wrap=True
    )


def safe(value: object, *, limit: int | None = None, single_line: bool = False) -> str:
    """Render ``value`` as text that is inert on a terminal.

    Control and bidi characters become visible escapes (``\\x1b``, ``\\u202e``); with
    ``single_line`` newlines and tabs do too; with ``limit`` long text is cut with ``…``.
    """
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(_escape_char, text)
    if single_line:
        text = text.replace("\n", "\\n").replace("\t", "\\t")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class Display:
    """Output for one command invocation: stdout for results, stderr for everything else."""

    def __init__(
        self, stdout: TextIO, stderr: TextIO, *, json_mode: bool, redactor: Redactor | None = None
    ) -> None:
        self.json_mode = json_mode
        self.redactor = redactor or Redactor()
        self._stdout = stdout
        self.out = _console(stdout)
        self.err = _console(stderr)

    # Every output goes through the redactor: ``known`` secrets (a profile's token, a secret
    # variable) everywhere; ``error`` also scrubs secret-shaped text (``token=…``).

    def error(self, message: str, hint: str | None = None) -> None:
        """One error sentence (and an optional hint) on stderr."""
        line = Text("error: ", style="bold red")
        line.append(safe(self.redactor.text(message)))
        self.err.print(line)
        if hint:
            self.err.print(Text("hint: ", style="yellow") + Text(safe(self.redactor.text(hint))))

    def warning(self, message: str) -> None:
        """A warning on stderr."""
        self.err.print(Text("warning: ", style="yellow") + Text(safe(self.redactor.known(message))))

    def info(self, message: str) -> None:
        """Progress or context for humans, on stderr (stdout stays clean for pipes)."""
        self.err.print(Text(safe(self.redactor.known(message)), style="dim"))

    def result(self, message: str, style: str | None = None) -> None:
        """A one-line human result on stdout."""
        self.out.print(Text(safe(self.redactor.known(message)), style=style or ""))

    def json(self, payload: Any) -> None:
        """Machine-readable output: one JSON document on stdout, ASCII-only (inert anywhere)."""
        text = json.dumps(payload, ensure_ascii=True, sort_keys=False)
        self._stdout.write(self.redactor.known(text) + "\n")
        self._stdout.flush()

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        title: str | None = None,
    ) -> None:
        """A table on stdout, every cell made safe and single-line."""
        table = Table(title=safe(title) if title else None, show_lines=False, expand=False)
        last = len(columns) - 1
        for index, column in enumerate(columns):
            # Short fields (ids, times, kinds) stay on one line; the last column wraps.
            table.add_column(column, no_wrap=index < last, overflow="fold")
        for row in rows:
            cells = (self.redactor.known("" if cell is None else str(cell)) for cell in row)
            table.add_row(*(safe(cell, limit=_MAX_CELL, single_line=True) for cell in cells))
        self.out.print(table)
