"""Target ids from the command line and from ids files (plain, CSV or JSONL)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.ids import MAX_ID_LENGTH, all_usable, usable_id

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "read_ids_file",
    "read_ids_file_recorded",
    "unique_ids",
    "usable_id",
]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest ids file read (64 MiB; about 2.7 million ids of 24 characters)."""


_BLANKS = " \t"
"""What is trimmed around an id: spaces and tabs only. Anything else (a control character, a
Unicode separator) stays, and is refused: a silently changed id would act on another object."""


def unique_ids(ids: Iterable[str], source: str, lines: Sequence[int] | None = None) -> list[str]:
    """Ids in first-seen order without duplicates; blank entries skipped; ids that are too
    long, hold control characters, or are ``.`` or ``..`` (a path segment that would act on
    the parent resource) refused, naming ``source`` and the entry's line (``lines[i]`` for
    the i-th entry) or position."""
    raw = list(ids)
    unique = list(dict.fromkeys(filter(None, (item.strip(_BLANKS) for item in raw))))
    # One check over all ids at C speed; the slow walk below only names the first bad one.
    if all_usable(unique):
        return unique
    for index, item in enumerate(raw):
        target = item.strip(_BLANKS)
        if target and not usable_id(target):
            where = f"{source}:{lines[index]}" if lines is not None else f"{source}: id {index + 1}"
            raise InvalidInput(f"{where}: {target[:40]!r} is not a usable id.")
    raise AssertionError("unreachable")  # pragma: no cover


def read_ids_file(path: Path, column: str | None = None) -> list[str]:
    """Ids from ``path``: one per line (``#`` comments), or a CSV / JSONL column.

    The format follows the suffix: ``.csv`` (``column``, default ``id``), ``.jsonl`` /
    ``.ndjson`` (field ``column``, default ``id``), anything else one id per line.
    """
    return _parse_ids(path, _read_ids_bytes(path), column)


def read_ids_file_recorded(
    path: Path, column: str | None = None
) -> tuple[list[str], dict[str, Any]]:
    """``read_ids_file``, and what a run records of the file: its name as given, the SHA-256
    of the bytes the ids were read from, and the column."""
    data = _read_ids_bytes(path)
    source = {"ids_file": str(path), "sha256": hashlib.sha256(data).hexdigest(), "column": column}
    return _parse_ids(path, data, column), source


def _read_ids_bytes(path: Path) -> bytes:
    try:
        return _read_capped(path)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the ids file ({exc.strerror}).") from None


def _parse_ids(path: Path, data: bytes, column: str | None) -> list[str]:
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark too
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: the ids file is not valid UTF-8.") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return unique_ids(*_csv_column(path, text, column or "id"))
    if suffix in (".jsonl", ".ndjson"):
        return unique_ids(*_jsonl_field(path, text, column or "id"))
    if column is not None:
        raise InvalidInput(f"{path}: --column applies to .csv and .jsonl files only.")
    lines = text.splitlines()
    if "#" not in text:
        return unique_ids(lines, str(path), range(1, len(lines) + 1))
    kept = [(n, line) for n, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
    return unique_ids([line for _, line in kept], str(path), [n for n, _ in kept])


def _read_capped(path: Path) -> bytes:
    """The file's bytes: a regular file only (a FIFO or ``/dev/zero`` would never end), and
    no more than the cap, counted while reading (the file may grow as it is read)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InvalidInput(f"{path}: the ids file is not a regular file.")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{path}: the ids file is larger than {MAX_FILE_BYTES:,} bytes.")
    return data


def _csv_column(path: Path, text: str, column: str) -> tuple[list[str], str, list[int]]:
    """The column's cells, the source and each cell's line (where its row starts)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))  # quoted fields may hold newlines
    if reader.fieldnames is None or column not in reader.fieldnames:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise InvalidInput(f"{path}:1:1: no column {column!r} (columns: {found}).")
    cells, lines = [], []
    start = reader.line_num + 1
    for row in reader:
        cells.append(row[column] or "")
        lines.append(start)
        start = reader.line_num + 1
    return cells, str(path), lines


def _jsonl_field(path: Path, text: str, field: str) -> tuple[list[str], str, list[int]]:
    ids, lines = [], []
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
        lines.append(number)
    return ids, str(path), lines
