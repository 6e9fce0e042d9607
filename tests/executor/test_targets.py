"""Target ids from the command line and ids files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ircli.errors import InvalidInput
from ircli.executor import targets
from ircli.executor.targets import MAX_ID_LENGTH, read_ids_file, unique_ids


def test_ids_are_stripped_deduplicated_and_kept_in_order() -> None:
    assert unique_ids([" b", "a ", "", "b", "  ", "c"], "x") == ["b", "a", "c"]
    assert unique_ids([], "x") == []


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("ev\x00il", "'ev\\x00il'"),
        ("a\x1bb", "'a\\x1bb'"),
        ("d\x7f", "'d\\x7f'"),
        ("u1\x1f", "'u1\\x1f'"),  # trailing: not stripped away into "u1"
        ("u3\x85", "'u3\\x85'"),  # C1 next line
        ("u4\u2028", "'u4\\u2028'"),  # Unicode line separator
    ],
)
def test_a_control_character_names_the_id(bad: str, shown: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        unique_ids(["ok", "", bad, "fine"], "ids.txt")
    assert str(raised.value) == f"ids.txt: id 3: {shown} is not a usable id."


def test_an_overlong_id_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"id 2: 'x+' is not a usable id"):
        unique_ids(["ok", "x" * (MAX_ID_LENGTH + 1)], "ids.txt")
    assert unique_ids(["x" * MAX_ID_LENGTH], "ids.txt") == ["x" * MAX_ID_LENGTH]


def test_plain_files_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    plain = tmp_path / "ids.txt"
    plain.write_text("# from the detector\nacc_1\n\n  # indented comment\nacc_2\r\nacc_1\n")
    assert read_ids_file(plain) == ["acc_1", "acc_2"]
    no_comments = tmp_path / "more.txt"
    no_comments.write_text("acc_3\nacc_4")
    assert read_ids_file(no_comments) == ["acc_3", "acc_4"]


def test_csv_and_jsonl_columns(tmp_path: Path) -> None:
    csv_file = tmp_path / "ids.csv"
    csv_file.write_text("user,id\nx,acc_1\ny,acc_2\n")
    assert read_ids_file(csv_file) == ["acc_1", "acc_2"]
    assert read_ids_file(csv_file, "user") == ["x", "y"]
    jsonl = tmp_path / "ids.jsonl"
    jsonl.write_text('{"id": "acc_1"}\n\n{"id": 42}\n')
    assert read_ids_file(jsonl) == ["acc_1", "42"]
    jsonl.write_text('{"id": "a"}\n{"name": "b"}\n')
    with pytest.raises(InvalidInput, match=r"ids.jsonl:2:1: the object has no 'id' id"):
        read_ids_file(jsonl)


def test_csv_from_a_spreadsheet(tmp_path: Path) -> None:
    exported = tmp_path / "export.csv"
    exported.write_bytes(
        b'\xef\xbb\xbfid,note\r\nacc_1,"two\r\nlines"\r\nacc_2,plain\r\n'
    )  # a byte-order mark, CRLF line ends, a quoted field across lines
    assert read_ids_file(exported) == ["acc_1", "acc_2"]


@pytest.mark.parametrize("dots", [".", ".."])
def test_a_dot_segment_is_not_an_id(dots: str) -> None:
    # Sent as a path segment, `..` would act on the parent resource behind a normalising proxy.
    with pytest.raises(InvalidInput) as raised:
        unique_ids(["ok", f" {dots} "], "--id")
    assert str(raised.value) == f"--id: id 2: {dots!r} is not a usable id."


def test_a_bad_id_in_a_file_is_named_by_its_line(tmp_path: Path) -> None:
    plain = tmp_path / "ids.txt"
    plain.write_text("# header\nacc_1\n\n# note\nacc_2\n..\n")
    with pytest.raises(InvalidInput, match=r"ids\.txt:6: '\.\.' is not a usable id"):
        read_ids_file(plain)
    table = tmp_path / "ids.csv"
    table.write_text('id,note\nacc_1,"two\nlines"\nacc\x01,x\n')
    with pytest.raises(InvalidInput, match=r"ids\.csv:4: 'acc\\x01' is not a usable id"):
        read_ids_file(table)
    lines = tmp_path / "ids.jsonl"
    lines.write_text('{"id": "a"}\n\n{"id": "b\\u0000"}\n')
    with pytest.raises(InvalidInput, match=r"ids\.jsonl:3: 'b\\x00' is not a usable id"):
        read_ids_file(lines)


def _read_with_deadline(path: Path) -> BaseException | list[str]:
    """``read_ids_file(path)`` in a thread: a read that blocks fails the test, not the run."""
    outcome: list[BaseException | list[str]] = []

    def read() -> None:
        try:
            outcome.append(read_ids_file(path))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert outcome, f"reading {path} did not return"
    return outcome[0]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "ids.fifo"
    os.mkfifo(fifo)
    outcome = _read_with_deadline(fifo)
    assert isinstance(outcome, InvalidInput)
    assert str(outcome) == f"{fifo}: the ids file is not a regular file."


def test_a_device_is_refused() -> None:
    outcome = _read_with_deadline(Path("/dev/zero"))
    assert str(outcome) == "/dev/zero: the ids file is not a regular file."


def test_the_size_cap_is_counted_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets, "MAX_FILE_BYTES", 16)
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_text("acc_1\nacc_2\n")
    large.write_text("acc_1\nacc_2\nacc_3\n")
    assert read_ids_file(small) == ["acc_1", "acc_2"]
    with pytest.raises(InvalidInput, match="the ids file is larger than 16 bytes"):
        read_ids_file(large)
