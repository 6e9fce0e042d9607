"""Start-up: each command imports what it needs and no more (figures: bench/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("typer", "rich", "sqlalchemy", "alembic", "pydantic", "yaml", "aiohttp", "httpx",
         "uvicorn", "starlette", "keyring")  # fmt: skip
PROBE = """
import json, sys
from ircli.cli import main
sys.argv = ["ircli", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
commands = sorted(name for name in sys.modules if name.startswith("ircli.cli."))
print(json.dumps({"code": code, "loaded": loaded, "commands": commands}), file=sys.stderr)
"""


def imports_of(tmp_path: Path, *argv: str) -> tuple[set[str], set[str]]:
    """The top-level packages and the ``ircli.cli`` modules loaded by ``ircli ARGV``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRCLI_")}
    env |= {"IRCLI_DB": str(tmp_path / "audit.db"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return set(report["loaded"]), set(report["commands"])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    loaded, _commands = imports_of(tmp_path, "incident", "open", "Flood", "-s", "P1")
    assert "sqlalchemy" in loaded
    return tmp_path


def test_version_is_answered_before_typer_and_rich_load(tmp_path: Path) -> None:
    loaded, _commands = imports_of(tmp_path, "--version")
    assert loaded.isdisjoint(HEAVY)


@pytest.mark.parametrize(
    ("argv", "needed"),
    [
        (("incident", "list"), {"typer", "rich", "sqlalchemy"}),
        (("runs", "list"), {"typer", "rich", "sqlalchemy"}),
        (("runs", "due"), {"typer", "rich", "sqlalchemy"}),  # nothing due: nothing to send
        (("audit", "verify"), {"typer", "rich", "sqlalchemy"}),
        (("store", "info"), {"typer", "rich", "sqlalchemy"}),
    ],
)
def test_reading_the_store_loads_no_profile_model_and_no_http_client(
    store: Path, argv: tuple[str, ...], needed: set[str]
) -> None:
    loaded, _commands = imports_of(store, *argv)
    assert loaded.intersection(HEAVY) == needed


def test_only_the_invoked_command_module_is_imported(store: Path) -> None:
    _loaded, commands = imports_of(store, "incident", "list")
    assert "ircli.cli.incident" in commands
    others = ("actions", "drill", "runbook", "runs", "audit", "report", "sandbox", "profile")
    assert commands.isdisjoint(f"ircli.cli.{other}" for other in others)
