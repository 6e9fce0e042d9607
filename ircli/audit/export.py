"""Audit exports: JSON Lines and CSV (safe against spreadsheet formula injection, with control
and bidi characters made visible)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from ircli.audit.records import AuditRecord
from ircli.inert import visible

__all__ = ["CSV_COLUMNS", "csv_cell", "to_csv", "to_jsonl"]

CSV_COLUMNS = (
    "seq",
    "ts",
    "operator",
    "kind",
    "incident",
    "run",
    "step",
    "target",
    "params",
    "outcome",
    "prev_hash",
    "hash",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> str:
    """A CSV cell that no spreadsheet will evaluate (OWASP: prefix risky cells with ``'``)
    and that reads as it holds (control and bidi characters made visible, as ``visible``)."""
    if value is None:
        return ""
    text = visible(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    if text.startswith(_FORMULA_STARTS) or text.lstrip().startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def to_jsonl(records: Iterable[AuditRecord]) -> Iterator[str]:
    """One JSON object per line (ASCII-escaped), newline-terminated."""
    for record in records:
        yield json.dumps(record.as_dict(), ensure_ascii=True, sort_keys=True) + "\n"


def to_csv(records: Iterable[AuditRecord]) -> Iterator[str]:
    """CSV text (header first), one chunk per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for record in records:
        row = record.as_dict()
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
