"""Target ids from the command line and from ids files (plain, CSV or JSONL)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

from ircli.errors import InvalidInput

__all__ = ["MAX_ID_LENGTH", "read_ids_file", "unique_ids"]

MAX_ID_LENGTH = 512
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_MAX_FILE_BYTES = 64 * 1024 * 1024


def unique_ids(ids: Iterable[str], source: str) -> list[str]:
    """Ids in first-seen order without duplicates; empty or control-character ids refused."""
    raw = list(ids)
    unique = list(dict.fromkeys(filter(None, map(str.strip, raw))))
    # One check over all ids at C speed; the slow walk below only names the first bad one.
    if max(map(len, unique), default=0) <= MAX_ID_LENGTH and not _CONTROL.search("".join(unique)):
        return unique
    for index, item in enumerate(raw, start=1):
        target = item.strip()
        if target and (len(target) > MAX_ID_LENGTH or _CONTROL.search(target)):
            raise InvalidInput(f"{source}: id {index} is not a usable id ({target[:40]!r}).")
    raise AssertionError("unreachable")  # pragma: no cover


def read_ids_file(path: Path, column: str | None = None) -> list[str]:
    """Ids from ``path``: one per line (``#`` comments), or a CSV / JSONL column.

    The format follows the suffix: ``.csv`` (``column``, default ``id``), ``.jsonl`` /
    ``.ndjson`` (field ``column``, default ``id``), anything else one id per line.
    """
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise InvalidInput(f"{path}: the ids file is larger than 64 MiB.")
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark too
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the ids file ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: the ids file is not valid UTF-8.") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return unique_ids(_csv_column(path, text, column or "id"), str(path))
    if suffix in (".jsonl", ".ndjson"):
        return unique_ids(_jsonl_field(path, text, column or "id"), str(path))
    if column is not None:
        raise InvalidInput(f"{path}: --column applies to .csv and .jsonl files only.")
    lines = text.splitlines()
    if "#" in text:
        lines = [line for line in lines if not line.lstrip().startswith("#")]
    return unique_ids(lines, str(path))


def _csv_column(path: Path, text: str, column: str) -> list[str]:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # quoted fields may hold newlines
    if reader.fieldnames is None or column not in reader.fieldnames:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise InvalidInput(f"{path}:1:1: no column {column!r} (columns: {found}).")
    return [row[column] or "" for row in reader]


def _jsonl_field(path: Path, text: str, field: str) -> list[str]:
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise InvalidInput(f"{path}:{number}:1: the line is not valid JSON.") from None
        if not isinstance(item, dict) or not isinstance(item.get(field), str | int):
            raise InvalidInput(f"{path}:{number}:1: the object has no {field!r} id.")
        ids.append(str(item[field]))
    return ids
