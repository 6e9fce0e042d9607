"""docs/cli.md stays in sync with --help, and every command's help ends with an example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ircli.cli.docgen import command_paths, help_text, update

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"


def test_cli_reference_is_up_to_date() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert update(current) == current, "run: make docs"


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "ircli")
def test_every_command_is_documented_and_ends_with_an_example(path: tuple[str, ...]) -> None:
    text = help_text(path)
    assert f"### `{' '.join(('ircli', *path))}`" in DOC.read_text(encoding="utf-8")
    lines = text.rstrip().splitlines()
    example_at = max(i for i, line in enumerate(lines) if line.strip() == "Example:")
    assert all(line.strip().startswith("ircli ") for line in lines[example_at + 1 :])


def test_top_level_help_does_not_import_heavy_libraries() -> None:
    probe = (
        "import io, sys\n"
        "from ircli.cli import run\n"
        "from ircli.cli.environment import Environment\n"
        "code = run(['--help'], Environment(stdout=io.StringIO(), stderr=io.StringIO(), env={}))\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'httpx', 'yaml', 'alembic', 'starlette',"
        " 'uvicorn', 'asyncio', 'pydantic') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "0 []"


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ircli", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ircli ")
