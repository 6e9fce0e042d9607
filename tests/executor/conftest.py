"""A real sandbox on loopback and a helper to run the ``ircli`` process against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.sandbox import RunningServer, WorldConfig, run_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "executor-test-token"
WORLD = WorldConfig(
    seed=11,
    honest_accounts=12_000,
    honest_streams=2_000,
    bot_accounts=300,
    compromised_accounts=20,
    bot_rate=0.0,
    max_batch=100,
    max_page=1000,
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD, token=TOKEN) as running:
        yield running


@dataclass
class Platform:
    """The loopback sandbox, reset for one test, with a control client."""

    url: str
    control: httpx.Client

    def score(self) -> dict[str, Any]:
        return dict(self.control.get("/_sandbox/score").json())

    def faults(self, **faults: Any) -> None:
        self.control.put("/_sandbox/faults", json=faults).raise_for_status()

    def get(self, path: str) -> dict[str, Any]:
        return dict(self.control.get(path).json())


@pytest.fixture
def platform(sandbox: RunningServer) -> Iterator[Platform]:
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as control:
        control.put("/_sandbox/faults", json={}).raise_for_status()
        control.post("/_sandbox/reset", json={"seed": 11}).raise_for_status()
        yield Platform(sandbox.url, control)
        control.put("/_sandbox/faults", json={})


@dataclass
class Ircli:
    """Runs ``python -m ircli`` as its own process against the platform and a store."""

    db: Path
    url: str
    extra_env: dict[str, str]

    def env(self, **more: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("IRCLI_")},
            "IRCLI_DB": str(self.db),
            "IRCLI_OPERATOR": "tester",
            "IRCLI_PROFILE": "sandbox",
            "IRCLI_SANDBOX_URL": self.url,
            "IRCLI_SANDBOX_TOKEN": TOKEN,
            **self.extra_env,
            **more,
        }

    def start(self, *argv: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ircli", *argv],
            cwd=ROOT,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    def __call__(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ircli", *argv],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=600,
        )

    def json(self, *argv: str, **env: str) -> Any:
        result = self("--json", *argv, **env)
        assert result.stdout, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def ircli(tmp_path: Path, platform: Platform) -> Ircli:
    return Ircli(tmp_path / "audit.db", platform.url, {})


def write_ids(path: Path, ids: list[str]) -> Path:
    path.write_text("\n".join(ids) + "\n")
    return path


def account_ids(count: int, start: int = 1) -> list[str]:
    return [f"acc_{i:07d}" for i in range(start, start + count)]


def stream_ids(count: int, start: int = 1) -> list[str]:
    return [f"str_{i:07d}" for i in range(start, start + count)]


RESET_IDEMPOTENT = """    map: {password_reset: done, not_found: failed}
    idempotent: true
"""


def unsafe_reset_profile(directory: Path) -> Path:
    """A copy of the sandbox profile that calls ``accounts.reset_password`` not idempotent
    (the shipped one calls it idempotent: the sandbox replays idempotency keys)."""
    text = (ROOT / "profiles" / "sandbox.yaml").read_text()
    assert text.count(RESET_IDEMPOTENT) == 1
    path = directory / "unsafe-reset.yaml"
    path.write_text(text.replace(RESET_IDEMPOTENT, RESET_IDEMPOTENT.replace("true", "false")))
    return path
