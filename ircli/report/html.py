"""The report as one self-contained HTML file: inline CSS and SVG, no script, no network.

A Content-Security-Policy forbids every fetch but inline styles and ``data:`` images, as a
second line of defence: the first is that every value from the store is HTML-escaped
(``html_text``), so nothing in it can become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ircli.report import runtext, sections
from ircli.report.model import Report
from ircli.report.series import CONTAINMENT_ACTION
from ircli.report.svg import actions_chart, containment_chart
from ircli.report.text import html_text

__all__ = ["CSP", "render_html"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; overflow-wrap: anywhere; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td { overflow-wrap: anywhere; white-space: pre-wrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
.hash td, .hash { overflow-wrap: anywhere; }
.placeholder { color: #666; font-style: italic; }
figure { margin: 1rem 0; } figcaption { color: #444; font-size: .9em; }
svg.chart { width: 100%; height: auto; border: 1px solid #e0e0e0; background: #fff; }
svg .axis { stroke: #333; stroke-width: 1; } svg .grid { stroke: #eee; stroke-width: 1; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .phase-label { fill: #555; font-size: 10px; }
svg .label { font-weight: 600; } svg .curve { fill: none; stroke: #d62728; stroke-width: 2; }
svg .observed { fill: #d62728; } svg .empty { fill: #888; font-size: 13px; }
.actions td { height: 1.6rem; }
footer { margin-top: 2rem; padding-top: .5rem; border-top: 2px solid #333; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; } table, figure, tr { break-inside: avoid; }
  svg.chart { border: none; }
}
"""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{html_text(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html_text(cell)}</td>" for cell in row) + "</tr>\n" for row in rows
    )
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _list(lines: Iterable[str], extra: str = "") -> str:
    items = "".join(f"<li>{html_text(line)}</li>\n" for line in lines)
    return f"<ul>\n{items}{extra}</ul>"


def _section(section_id: str, title: str, *body: str) -> str:
    return (
        f'<section id="{section_id}">\n<h2>{html_text(title)}</h2>\n'
        + "\n".join(body)
        + "\n</section>"
    )


def render_html(report: Report) -> str:
    """The whole report as one HTML document: the post-mortem skeleton, then the appendices."""
    title = f"Post-incident report: {report.incident.title}"
    action_header, action_rows = sections.action_rows(report)
    run_rows = runtext.run_rows(report)
    steps = runtext.step_rows(report)
    approvals = sections.approval_rows(report)
    head, verification, command = sections.anchor_lines(report)
    overview = _table(("Field", "Value"), sections.overview_rows(report))
    body = [
        f"<header>\n<h1>{html_text(title)}</h1>\n{overview}\n</header>",
        _section("summary", "Summary", f"<p>{html_text(sections.summary(report))}</p>"),
        _section(
            "impact",
            "Impact",
            _list(
                sections.impact(report),
                f'<li class="placeholder">{_placeholder("impact")}</li>\n',
            ),
        ),
        _section("detection", "Detection", _list(sections.detection(report))),
        _section(
            "response",
            "Response",
            "<p>All times UTC, in time order.</p>",
            _list(sections.response(report)),
        ),
        _section(
            "timeline",
            "Timeline",
            "<p>All times UTC.</p>",
            _table(("Time", "Kind", "Operator", "Event"), sections.timeline_rows(report.timeline)),
        ),
        _section(
            "went-well", "What went well", f'<p class="placeholder">{_placeholder("went_well")}</p>'
        ),
        _section(
            "went-badly",
            "What went badly",
            f'<p class="placeholder">{_placeholder("went_badly")}</p>',
        ),
        _section(
            "action-items",
            "Action items",
            '<p class="placeholder">To be filled in by the incident team.</p>',
            _table(
                sections.ACTION_ITEM_COLUMNS,
                [(str(n), "", "", "", "", "") for n in range(1, sections.ACTION_ITEM_ROWS + 1)],
                "actions",
            ),
        ),
        _section(
            "drill",
            "Drill",
            _list(sections.drill_lines(report)),
            _table(sections.DRILL_COLUMNS, sections.drill_rows(report)),
        )
        if report.drill is not None
        else "",
        _section(
            "charts",
            "Charts",
            f"<figure>\n{actions_chart(report.charts)}\n<figcaption>Every result in an "
            "<code>action.outcome</code> record is one target action, counted in the UTC minute "
            "the record was written. Shaded bands run from each recorded milestone to the next "
            "one recorded.</figcaption>\n</figure>",
            f"<figure>\n{containment_chart(report.charts)}\n<figcaption>"
            f"{_containment_caption(report)}</figcaption>\n</figure>",
        ),
        _section(
            "metrics",
            "Metrics",
            "<p>Durations are measured from the start of impact (from detection when the start "
            "is unknown).</p>",
            _table(("Metric", "Value"), sections.metric_rows(report)),
            "<h3>Targets per action and outcome</h3>",
            _table(action_header, action_rows)
            if action_rows
            else "<p>No target actions recorded.</p>",
        ),
        _section(
            "runs",
            "Runs",
            _table(runtext.RUN_COLUMNS, run_rows) if run_rows else "<p>No runs recorded.</p>",
            (
                "<h3>Plans and files</h3>"
                + _table(runtext.PROVENANCE_COLUMNS, runtext.provenance_rows(report), "hash")
            )
            if run_rows
            else "",
            (
                "<h3>Playbook steps</h3>"
                + _table(("Run", "Step", "Kind", "Action", "Finished", "Outcome"), steps)
            )
            if steps
            else "",
        ),
        _section(
            "approvals",
            "Approvals",
            _table(("Time", "Approver", "Plan hash", "Expires", "Run"), approvals)
            if approvals
            else "<p>No approvals recorded.</p>",
        ),
        '<footer id="audit-anchor">\n<h2>Audit anchor</h2>\n<ul>\n'
        f'<li>Audit head (seq:hash): <span class="hash">{html_text(head)}</span></li>\n'
        + (f"<li>Re-check later: <code>{html_text(command)}</code></li>\n" if command else "")
        + f'<li id="verification">Verification: {html_text(verification)}</li>\n</ul>\n</footer>',
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{html_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _placeholder(name: str) -> str:
    return "[placeholder] " + html_text(sections.PLACEHOLDERS[name])


def _containment_caption(report: Report) -> str:
    points = report.charts.containment
    if points and points[0].source == "truth":
        return (
            "Malicious live streams only, from the sandbox's ground truth (the drill's "
            "<code>drill.scored</code> record), a point every half second at most."
        )
    action = html_text(CONTAINMENT_ACTION)
    return (
        "An estimate from the run's own records, honest streams included: dots are "
        "observations, a <code>query.result</code> count on a stream listing (or, without any, "
        f"a <code>{action}</code> run's target count). After each observation the line drops "
        f"by every <code>{action}</code> result recorded as done. Streams started between two "
        "observations only appear at the next one."
    )
