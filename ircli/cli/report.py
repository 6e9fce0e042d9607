"""``ircli report``: an incident's post-mortem report in Markdown, HTML, JSON, CSV or Timesketch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ircli.cli.audit import write_private
from ircli.cli.helptext import example
from ircli.cli.state import state_of
from ircli.errors import InvalidInput

__all__ = ["EPILOG", "report"]

EPILOG = example(
    "ircli report INC-20261128-7QK2 --format md",
    "ircli report INC-20261128-7QK2 --format html -o reports/INC-20261128-7QK2.html",
)


def report(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident id.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md (default; json with --json), html, json, csv (timeline) or timesketch.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (0600), not stdout.")
    ] = None,
) -> None:
    """Write an incident's report, ending with the audit head and its verification."""
    from ircli.report import build_report, check_format, render

    state = state_of(ctx)
    if state.display.json_mode and fmt not in (None, "json"):
        raise InvalidInput(f"--json prints the JSON report; drop --json to write {fmt}.")
    fmt = check_format(fmt or ("json" if state.display.json_mode else "md"))
    built = build_report(state.store(), incident_id, now=state.environment.clock())
    text = render(built, fmt)
    if output is None:
        # Renderers make every value inert for their format (escaped HTML/Markdown, visible
        # control characters, ASCII-only JSON), so the document is written as it is.
        state.environment.stdout.write(text)
        state.environment.stdout.flush()
    else:
        count = write_private(output, [text])
        state.display.info(f"wrote {output} ({count} bytes)")
    if not built.audit.ok:
        state.display.warning(f"the audit chain does not verify: {built.audit.summary}")
