"""Tables in a real terminal of 80 and 120 columns (a pseudo-terminal): run ids, incident
ids and counts are never cut; less important columns give way, or the table becomes a list."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.executor.conftest import ROOT, Ircli, account_ids, write_ids

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[=>]")
TITLE = "Bot accounts flooding live streams with links to phishing domains, second wave"


def in_terminal(ircli: Ircli, columns: int, *argv: str) -> tuple[int, list[str]]:
    """Run ``ircli`` on a pseudo-terminal ``columns`` wide; its exit code and screen lines."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in ircli.env().items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ircli", *argv],
        cwd=ROOT,
        env={**env, "TERM": "xterm-256color"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def screen(ircli: Ircli, columns: int, *argv: str) -> list[str]:
    """The lines of a successful command on a terminal ``columns`` wide; none is wider."""
    code, lines = in_terminal(ircli, columns, *argv)
    assert code == 0, lines
    assert all(len(line) <= columns for line in lines), lines
    return lines


def _row_with(lines: list[str], text: str) -> list[str]:
    """The cells of the table row (or header) holding ``text``."""
    (row,) = [line for line in lines if text in line and line.lstrip()[:1] in ("│", "┃")]
    return [cell.strip() for cell in re.split("[│┃]", row.strip("│┃ "))]


@pytest.fixture
def history(ircli: Ircli, tmp_path: Path) -> dict[str, str]:
    """A store with an incident (long title) and a 1,500-target run on it."""
    opened = ircli("incident", "open", TITLE, "-s", "P1", "--commander", "dana")
    assert opened.returncode == 0, opened.stderr
    incident = opened.stdout.strip()
    ids = write_ids(tmp_path / "ids.txt", account_ids(1500))
    run = ircli.json("accounts", "freeze", "--ids-file", str(ids), "--batch", "100",
                     "--incident", incident, "--yes")  # fmt: skip
    assert run["status"] == "completed", run
    return {"incident": incident, "run": run["run"]}


@pytest.mark.parametrize("columns", [80, 120])
def test_runs_list_keeps_ids_and_counts_whole(
    ircli: Ircli, history: dict[str, str], columns: int
) -> None:
    lines = screen(ircli, columns, "runs", "list")
    header = _row_with(lines, "status")
    row = dict(zip(header, _row_with(lines, history["run"]), strict=True))
    assert row["run"] == history["run"]
    assert (row["status"], row["done"], row["failed"], row["left"]) == (
        "completed",
        "1500",
        "0",
        "0",
    )
    if columns == 120:
        assert row["incident"] == history["incident"]
        assert row["action"] == "accounts.freeze"
    caption = [line for line in lines if line.strip().startswith("hidden at")]
    assert caption, lines
    assert f"hidden at {columns} columns:" in caption[0]


@pytest.mark.parametrize("columns", [80, 120])
def test_incident_list_keeps_the_id_and_wraps_the_title(
    ircli: Ircli, history: dict[str, str], columns: int
) -> None:
    lines = screen(ircli, columns, "incident", "list")
    row = _row_with(lines, history["incident"])
    assert row[0] == history["incident"]
    assert row[1:3] == ["P1", "detected"]
    # The title wraps inside its column; read back, it is whole.
    body = [line for line in lines if line.lstrip().startswith("│")]
    title = " ".join(re.split("│", line.strip("│ "))[-1].strip() for line in body)
    assert " ".join(title.split()) == TITLE


def test_the_summary_after_a_run_fits_80_columns(ircli: Ircli, tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", account_ids(1234, start=2001))
    code, lines = in_terminal(ircli, 80, "accounts", "freeze", "--ids-file", str(ids),
                              "--batch", "100", "--yes")  # fmt: skip
    assert code == 0, lines
    header = _row_with(lines, "status")
    (run_line,) = [line for line in lines if "RUN-" in line and "│" in line]
    row = dict(zip(header, _row_with(lines, run_line.split("│")[1].strip()), strict=True))
    assert re.fullmatch(r"RUN-\d{8}-[0-9A-Z]+", row["run"])
    assert (row["status"], row["targets"], row["done"], row["failed"]) == (
        "completed",
        "1234",
        "1234",
        "0",
    )
    summary = [line for line in lines if line.startswith(("┏", "┃", "┡", "│", "└"))]
    assert all(len(line) <= 80 for line in summary), summary


def test_a_table_too_wide_for_any_column_to_give_way_becomes_a_list(
    ircli: Ircli, history: dict[str, str]
) -> None:
    lines = screen(ircli, 40, "runs", "list")
    fields = dict(line.strip().split(maxsplit=1) for line in lines if "  " in line.strip())
    assert fields["run"] == history["run"]
    assert (fields["done"], fields["left"]) == ("1500", "0")
