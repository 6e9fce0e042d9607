"""Generate the command reference in docs/cli.md from the live ``--help`` texts.

``python -m ircli.cli.docgen docs/cli.md`` rewrites the part of the file between the
``BEGIN``/``END`` markers; a test fails when the file is out of date. Help texts are taken by
running the CLI in-process with ``--help``: exactly what a user sees.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from ircli.cli import root_command, run
from ircli.cli.environment import Environment

__all__ = ["BEGIN", "END", "command_paths", "help_text", "reference", "update"]

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m ircli.cli.docgen docs/cli.md -->"
END = "<!-- END GENERATED REFERENCE -->"


def command_paths() -> Iterator[tuple[str, ...]]:
    """The argv prefix of every command and group, depth first, in definition order."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        if hasattr(command, "list_commands"):
            context = typer.Context(command, info_name=path[-1] if path else "ircli")
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, (*path, name))

    yield from walk(root_command(), ())


def help_text(path: tuple[str, ...]) -> str:
    """The ``--help`` output of the command at ``path``."""
    stdout = io.StringIO()
    code = run([*path, "--help"], Environment(stdout=stdout, stderr=io.StringIO(), env={}))
    if code != 0:  # pragma: no cover - only when a command is wired wrongly
        raise RuntimeError(f"ircli {' '.join(path)} --help exited {code}")
    return stdout.getvalue().rstrip() + "\n"


def reference() -> str:
    """The generated Markdown reference."""
    parts = []
    for path in command_paths():
        title = " ".join(("ircli", *path))
        parts.append(f"### `{title}`\n\n```text\n{help_text(path)}```\n")
    return "\n".join(parts)


def update(text: str) -> str:
    """``text`` with the generated part replaced by the current reference."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{reference()}\n{END}{tail}"


def main() -> None:
    """Rewrite the reference in the file named on the command line."""
    path = Path(sys.argv[1])
    path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
