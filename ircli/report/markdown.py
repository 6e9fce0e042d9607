"""The report as Markdown, for pasting into a post-mortem document.

Every value from the store goes through ``md_inline``/``md_cell``: it renders as the literal
text (no links, images, HTML, emphasis or broken tables). Only the skeleton is Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ircli.report import runtext, sections
from ircli.report.model import Report
from ircli.report.text import md_cell, md_inline

__all__ = ["render_markdown"]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(md_cell(cell) for cell in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _bullets(lines: Iterable[str]) -> list[str]:
    return [*(f"- {md_inline(line)}" for line in lines), ""]


def render_markdown(report: Report) -> str:
    """The whole report as Markdown text: the post-mortem skeleton, then the appendices."""
    out = [f"# Post-incident report: {md_inline(report.incident.title)}", ""]
    out += _table(("Field", "Value"), sections.overview_rows(report))
    out += ["## Summary", "", md_inline(sections.summary(report)), ""]
    out += ["## Impact", "", *_bullets(sections.impact(report))[:-1]]
    out += [f"- {_placeholder('impact')}", ""]
    out += ["## Detection", "", *_bullets(sections.detection(report))]
    out += ["## Response", "", "All times UTC, in time order.", ""]
    out += _bullets(sections.response(report))
    out += ["## Timeline", "", "All times UTC.", ""]
    out += _table(("Time", "Kind", "Operator", "Event"), sections.timeline_rows(report.timeline))
    out += ["## What went well", "", _placeholder("went_well"), ""]
    out += ["## What went badly", "", _placeholder("went_badly"), ""]
    out += ["## Action items", "", "_To be filled in by the incident team._", ""]
    out += _table(sections.ACTION_ITEM_COLUMNS, [])[:-1]
    out += [
        f"| {n} |" + "  |" * (len(sections.ACTION_ITEM_COLUMNS) - 1)
        for n in range(1, sections.ACTION_ITEM_ROWS + 1)
    ]
    out.append("")
    if report.drill is not None:
        out += ["## Drill", "", *_bullets(sections.drill_lines(report))]
        out += _table(sections.DRILL_COLUMNS, sections.drill_rows(report))
    out += ["## Metrics", "", *_table(("Metric", "Value"), sections.metric_rows(report))]
    header, rows = sections.action_rows(report)
    out += ["### Targets per action and outcome", ""]
    out += _table(header, rows) if rows else ["No target actions recorded.", ""]
    out += ["## Runs", ""]
    runs = runtext.run_rows(report)
    if runs:
        out += _table(runtext.RUN_COLUMNS, runs)
        out += ["### Plans and files", ""]
        out += _table(runtext.PROVENANCE_COLUMNS, runtext.provenance_rows(report))
    else:
        out += ["No runs recorded.", ""]
    steps = runtext.step_rows(report)
    if steps:
        out += ["### Playbook steps", ""]
        out += _table(("Run", "Step", "Kind", "Action", "Finished", "Outcome"), steps)
    out += ["## Approvals", ""]
    approvals = sections.approval_rows(report)
    header = ("Time", "Approver", "Plan hash", "Expires", "Run")
    out += _table(header, approvals) if approvals else ["No approvals recorded.", ""]
    head, verification, command = sections.anchor_lines(report)
    out += ["## Audit anchor", "", f"- Audit head (seq:hash): {md_inline(head)}"]
    if command:
        out.append(f"- Re-check later: `{command}`")
    out.append(f"- Verification: {md_inline(verification)}")
    return "\n".join(out) + "\n"


def _placeholder(name: str) -> str:
    """A judgement section left to the team, marked as such."""
    return f"_[placeholder] {md_inline(sections.PLACEHOLDERS[name])}_"
