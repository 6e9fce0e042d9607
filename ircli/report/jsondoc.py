"""The report as one JSON document: ``Report.as_dict`` (``schema_version`` first)."""

from __future__ import annotations

import json

from ircli.report.model import Report

__all__ = ["render_json"]


def render_json(report: Report) -> str:
    """Indented, ASCII-only JSON (inert in any terminal); keys in the model's order."""
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=True) + "\n"
