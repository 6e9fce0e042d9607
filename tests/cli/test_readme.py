"""The README's Usage block, run as written against a sandbox this test starts.

Only the documented environment is added (``IRCLI_DB``, ``IRCLI_PROFILE`` and
``IRCLI_SANDBOX_URL``; the sandbox's development token applies on loopback), plus ``PATH`` so
that ``ircli`` is the one installed in this environment. The block's one input file,
``bots.txt`` ("one account id per line"), holds accounts whose streams the sandbox's users
reported, as a detection query would give them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ircli.sandbox import RunningServer, WorldConfig, run_server

README = Path(__file__).resolve().parents[2] / "README.md"
WORLD = WorldConfig(
    seed=7, honest_accounts=20_000, honest_streams=3_000, bot_accounts=2_000,
    compromised_accounts=50, bot_rate=0.0,
)  # fmt: skip


def usage_blocks() -> list[str]:
    """The ``sh`` blocks of the README's Usage section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Usage\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningServer]:
    with run_server(WORLD) as running:
        yield running


def test_the_setup_block_names_only_the_documented_environment() -> None:
    setup = usage_blocks()[0]
    assert setup.strip() == (
        "export IRCLI_DB=/srv/ircli/audit.db IRCLI_OPERATOR=dana IRCLI_PROFILE=sandbox"
    )


def test_the_usage_block_runs_as_written(sandbox: RunningServer, tmp_path: Path) -> None:
    block = usage_blocks()[1]
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": "Bearer sandbox-dev-token"}
    ) as http:
        page = http.get(
            "/api/v1/streams", params={"status": "live", "min_reports": 20, "limit": 50}
        ).json()
    bots = sorted({stream["account_id"] for stream in page["items"]})
    assert bots, "the sandbox has no reported live streams to take accounts from"
    (tmp_path / "bots.txt").write_text("\n".join(bots) + "\n")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("IRCLI_", "XDG_"))
    }
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),  # 'incident use' remembers its choice under it
        "IRCLI_DB": str(tmp_path / "audit.db"),
        "IRCLI_PROFILE": "sandbox",
        "IRCLI_SANDBOX_URL": sandbox.url,
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stderr
    assert "warning" not in result.stderr
    out = result.stdout
    incident = re.search(r"^(INC-\d{8}-[0-9A-Z]{4})$", out, flags=re.MULTILINE)
    assert incident, out
    assert re.search(r"^\d+/\d+ records valid", out, flags=re.MULTILINE), out
    assert f"current incident: {incident[1]}" in out
    assert (tmp_path / "audit.csv").stat().st_size > 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Bot accounts flooding live streams" in report
    assert "live_streaming" in report  # the kill switch is on the incident's record
