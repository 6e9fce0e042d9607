"""Incident reports: one ``Report`` built from the audit store, rendered in several formats.

::

    report = build_report(store, "INC-20261128-7QK2", now=clock())
    text = render(report, "md")      # md, html, json, csv, timesketch, targets.csv

Every format is escaped for where it goes (see ``ircli.report.text``) and ends with the audit
head and the verification of the chain up to it. docs/reports.md describes each format.
``dsa`` (EU DSA statements of reasons) is built from the audit records by
``ircli.report.dsa.build_statements`` rather than rendered from a ``Report``; docs/dsa.md.
"""

from __future__ import annotations

from collections.abc import Callable

from ircli.errors import InvalidInput
from ircli.report.build import build_report
from ircli.report.csvtimeline import render_csv
from ircli.report.html import render_html
from ircli.report.jsondoc import render_json
from ircli.report.markdown import render_markdown
from ircli.report.model import SCHEMA_VERSION, Report
from ircli.report.targets import render_targets_csv
from ircli.report.timesketch import render_timesketch

__all__ = [
    "EXPORTS",
    "FORMATS",
    "SCHEMA_VERSION",
    "Report",
    "build_report",
    "check_format",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_targets_csv",
    "render_timesketch",
]

FORMATS: dict[str, Callable[[Report], str]] = {
    "md": render_markdown,
    "html": render_html,
    "json": render_json,
    "csv": render_csv,
    "timesketch": render_timesketch,
    "targets.csv": render_targets_csv,
}
EXPORTS = ("dsa",)
"""Formats built from the audit records themselves, not rendered from a ``Report``."""


def check_format(fmt: str) -> str:
    """``fmt`` if it is a known format, else ``InvalidInput`` naming the known ones."""
    if fmt not in FORMATS and fmt not in EXPORTS:
        known = ", ".join([*FORMATS, *EXPORTS])
        raise InvalidInput(f"unknown report format {fmt!r}; expected one of {known}.")
    return fmt


def render(report: Report, fmt: str) -> str:
    """The report in format ``fmt`` (one of ``FORMATS``)."""
    if check_format(fmt) in EXPORTS:
        raise InvalidInput(f"the {fmt} format is built from audit records, not from a report.")
    return FORMATS[fmt](report)
