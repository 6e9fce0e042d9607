"""The report as Markdown, for pasting into a post-mortem document.

Every value from the store goes through ``md_inline``/``md_cell``: it renders as the literal
text (no links, images, HTML, emphasis or broken tables). Only the skeleton is Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ircli.report import sections
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
    """The whole report as Markdown text."""
    out = [f"# Post-incident report: {md_inline(report.incident.title)}", ""]
    out += _table(("Field", "Value"), sections.overview_rows(report))
    out += ["## Summary", "", md_inline(sections.summary(report)), ""]
    out += ["## Impact", "", *_bullets(sections.impact(report))[:-1]]
    out += [f"- _{md_inline(sections.PLACEHOLDERS['impact'])}_", ""]
    out += ["## Detection", "", *_bullets(sections.detection(report))]
    out += ["## Response", "", *_bullets(sections.response(report))]
    out += ["## Recovery", "", *_bullets(sections.recovery(report))]
    out += ["## Root cause", "", f"_{md_inline(sections.PLACEHOLDERS['root_cause'])}_", ""]
    out += ["## Metrics", "", *_table(("Metric", "Value"), sections.metric_rows(report))]
    header, rows = sections.action_rows(report)
    out += ["### Targets per action and outcome", ""]
    out += _table(header, rows) if rows else ["No target actions recorded.", ""]
    out += ["## Timeline", "", "All times UTC.", ""]
    out += _table(("Time", "Kind", "Operator", "Event"), sections.timeline_rows(report.timeline))
    out += ["## Runs", ""]
    header, rows = sections.run_rows(report)
    out += _table(header, rows) if rows else ["No runs recorded.", ""]
    steps = sections.step_rows(report)
    if steps:
        out += ["### Playbook steps", ""]
        out += _table(("Run", "Step", "Kind", "Action", "Finished", "Outcome"), steps)
    out += ["## Approvals", ""]
    approvals = sections.approval_rows(report)
    header = ("Time", "Approver", "Plan hash", "Expires", "Run")
    out += _table(header, approvals) if approvals else ["No approvals recorded.", ""]
    out += ["## Action items", "", "_To be filled in by the incident team._", ""]
    out += _table(sections.ACTION_ITEM_COLUMNS, [])[:-1]
    out += [
        f"| {n} |" + "  |" * (len(sections.ACTION_ITEM_COLUMNS) - 1)
        for n in range(1, sections.ACTION_ITEM_ROWS + 1)
    ]
    head, verification, command = sections.anchor_lines(report)
    out += ["", "## Audit anchor", "", f"- Audit head (seq:hash): {md_inline(head)}"]
    if command:
        out.append(f"- Re-check later: `{command}`")
    out.append(f"- Verification: {md_inline(verification)}")
    return "\n".join(out) + "\n"
