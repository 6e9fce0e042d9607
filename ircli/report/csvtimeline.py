"""The timeline as CSV: one row per timeline line, every cell formula-safe.

Cells go through ``csv_cell``: no cell starts a spreadsheet formula, and no terminal escape or
bidi override survives a ``cat``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from ircli.audit.export import csv_cell
from ircli.report.model import Report

__all__ = ["TIMELINE_COLUMNS", "csv_text", "render_csv"]

TIMELINE_COLUMNS = (
    "at",
    "kind",
    "operator",
    "message",
    "incident",
    "record_kind",
    "run",
    "step",
    "target",
    "seq",
    "recorded_at",
)


def render_csv(report: Report) -> str:
    """The timeline as CSV text (``csv_text``)."""
    incident = report.incident.id
    return csv_text(
        TIMELINE_COLUMNS, ({**item.__dict__, "incident": incident} for item in report.timeline)
    )


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """CSV text, header first, CRLF line ends (RFC 4180), every cell through ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[c]) for c in columns])
    return buffer.getvalue()
