"""Target ids from the command line and from ids files (plain, CSV or JSONL)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ircli.errors import InvalidInput
from ircli.platform.ids import MAX_ID_LENGTH, all_usable, usable_id

__all__ = ["MAX_FILE_BYTES", "MAX_ID_LENGTH", "read_ids_file", "unique_ids", "usable_id"]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest ids file read (64 MiB; about 2.7 million ids of 24 characters)."""


def unique_ids(ids: Iterable[str], source: str) -> list[str]:
    """Ids in first-seen order without duplicates; blank lines skipped; ids that are too long,
    hold control characters, or are ``.`` or ``..`` (a path segment that would act on the parent
    resource) refused."""
    raw = list(ids)
    unique = list(dict.fromkeys(filter(None, map(str.strip, raw))))
    # One check over all ids at C speed; the slow walk below only names the first bad one.
    if all_usable(unique):
        return unique
    for index, item in enumerate(raw, start=1):
        target = item.strip()
        if target and not usable_id(target):
            raise InvalidInput(f"{source}: id {index} is not a usable id ({target[:40]!r}).")
    raise AssertionError("unreachable")  # pragma: no cover


def read_ids_file(path: Path, column: str | None = None) -> list[str]:
    """Ids from ``path``: one per line (``#`` comments), or a CSV / JSONL column.

    The format follows the suffix: ``.csv`` (``column``, default ``id``), ``.jsonl`` /
    ``.ndjson`` (field ``column``, default ``id``), anything else one id per line.
    """
    try:
        text = _read_capped(path).decode("utf-8-sig")  # a spreadsheet's byte-order mark too
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
