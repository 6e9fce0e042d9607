"""The small display vocabulary over Rich: errors, tables, JSON, safe text.

Everything that reaches the terminal from data (titles, names, notes, targets) passes through
``safe`` so that no control sequence, bidirectional override or Rich markup from data is ever
interpreted. Consoles are created with ``markup=False``; styling uses ``Text`` objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ircli.inert import visible
from ircli.redaction import Redactor

__all__ = ["Column", "Display", "safe", "short_time"]

_MAX_CELL = 200
_PIPE_WIDTH = 200
_WRAP_MIN = 12  # the narrowest a wrapping (free text) column gets before the table gives way


@dataclass(frozen=True)
class Column:
    """A table column. Cells are never cut: ``wrap`` columns (free text) wrap; ``drop``
    columns give way, highest ``drop`` first, when the table is wider than the terminal."""

    name: str
    drop: int = 0
    wrap: bool = False


def _console(stream: TextIO) -> Console:
    # Off a terminal (pipes, files, tests) Rich would assume 80 columns and squeeze tables.
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(
        file=stream, width=width, markup=False, highlight=False, emoji=False, soft_wrap=True
    )


_STORED_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$")


def short_time(value: str | None) -> str:
    """A stored time to the second, for tables (``--json`` keeps the microseconds)."""
    if not value:
        return ""
    return _STORED_TIME.sub(r"\1Z", value)


def safe(value: object, *, limit: int | None = None, single_line: bool = False) -> str:
    """Render ``value`` as text that is inert on a terminal.

    Control and bidi characters become visible escapes (``\\x1b``, ``\\u202e``); with
    ``single_line`` newlines and tabs do too; with ``limit`` long text is cut with ``…``.
    """
    text = visible(value)
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
        columns: Sequence[str | Column],
        rows: Iterable[Sequence[object]],
        *,
        title: str | None = None,
    ) -> None:
        """A table on stdout, every cell made safe and single-line and none of them cut.

        A plain name is a column kept whole (ids, counts, times), except the last one, which
        wraps. When the terminal is too narrow, ``drop`` columns give way (the caption says
        which); when even that is not enough, every row is printed as a list of fields.
        """
        specs = [
            c if isinstance(c, Column) else Column(c, wrap=i == len(columns) - 1)
            for i, c in enumerate(columns)
        ]
        cells = [
            [safe(self.redactor.known("" if c is None else str(c)), limit=_MAX_CELL,
                  single_line=True) for c in row]
            for row in rows
        ]  # fmt: skip
        needs = [_need(spec, [row[i] for row in cells]) for i, spec in enumerate(specs)]
        width = self.out.width
        shown = _fitting(specs, needs, width)
        if shown is None:
            self._as_list(specs, cells, title)
            return
        hidden = [spec.name for i, spec in enumerate(specs) if i not in shown]
        table = Table(
            title=safe(title) if title else None,
            caption=f"hidden at {width} columns: {', '.join(hidden)} (--json has all)"
            if hidden
            else None,
            show_lines=False,
            expand=False,
        )
        for i in shown:
            if specs[i].wrap:
                table.add_column(specs[i].name, overflow="fold", min_width=needs[i])
            else:
                table.add_column(specs[i].name, no_wrap=True, width=needs[i])
        for row in cells:
            table.add_row(*(row[i] for i in shown))
        self.out.print(table)

    def _as_list(self, specs: list[Column], cells: list[list[str]], title: str | None) -> None:
        if title:
            self.out.print(Text(safe(title), style="bold"))
        label = max(len(spec.name) for spec in specs)
        for number, row in enumerate(cells):
            if number:
                self.out.print()
            for spec, cell in zip(specs, row, strict=True):
                self.out.print(Text(f"{spec.name:>{label}}  ", style="dim") + Text(cell))


def _fitting(specs: list[Column], needs: list[int], width: int) -> list[int] | None:
    """The columns that fit ``width``: droppable ones give way, highest ``drop`` first, then
    those that fit again come back, lowest ``drop`` first. None: even the kept ones do not."""
    shown = list(range(len(specs)))
    by_drop = sorted((i for i in shown if specs[i].drop), key=lambda i: (specs[i].drop, i))
    for index in reversed(by_drop):
        if _table_width(needs[i] for i in shown) <= width:
            return shown
        shown.remove(index)
    if _table_width(needs[i] for i in shown) > width:
        return None
    for index in by_drop:
        if index not in shown and _table_width([*(needs[i] for i in shown), needs[index]]) <= width:
            shown = sorted([*shown, index])
    return shown


def _need(spec: Column, cells: list[str]) -> int:
    """The width a column needs: all of its widest cell, or for free text a few words."""
    widest = max([cell_len(spec.name), *(cell_len(cell) for cell in cells)])
    return min(widest, _WRAP_MIN) if spec.wrap else widest


def _table_width(needs: Iterable[int]) -> int:
    """A boxed table's width: the cells, one space each side, a border between and around."""
    widths = list(needs)
    return sum(widths) + 3 * len(widths) + 1
