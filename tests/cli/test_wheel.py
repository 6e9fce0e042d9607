"""The package is complete: a wheel built from this tree, installed in a fresh venv outside
it, finds the shipped profiles and playbooks and runs a drill."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_an_installed_wheel_ships_profiles_and_playbooks(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(dist), str(ROOT)],
        check=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("ircli-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The dependencies come from this test's environment (tests talk to no index): a .pth
    # appends its site-packages, after the fresh venv's own, where the wheel goes.
    (site,) = (venv / "lib").glob("python3*/site-packages")
    ours = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "dependencies.pth").write_text(ours + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}  # fmt: skip
    ircli = str(venv / "bin" / "ircli")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ircli, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import ircli; print(ircli.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site)), "the wheel's ircli, not the source tree's"
    profiles = run("--json", "profile", "list")
    assert profiles.returncode == 0, profiles.stderr
    assert {"sandbox", "mastodon", "keycloak"} <= {p["name"] for p in json.loads(profiles.stdout)}
    playbooks = run("--json", "playbook", "list")
    assert playbooks.returncode == 0, playbooks.stderr
    assert "live-flood-containment" in {p["name"] for p in json.loads(playbooks.stdout)}
    watch = run("--json", "watch", "live-flood", "--check")
    assert watch.returncode == 0, watch.stderr
    assert json.loads(watch.stdout)["rules"][0]["playbook"] == "live-flood-containment"
    drill = run("drill", "live-flood-containment", "--accounts", "300", "--streams", "40",
                "--bots", "40", "--compromised", "10", "--formats", "json",
                "--report-dir", str(tmp_path / "reports"),
                "--pass", "duplicate_effects == 0 and audit_ok")  # fmt: skip
    assert drill.returncode == 0, drill.stdout[-2000:] + drill.stderr
    assert list((tmp_path / "reports").glob("INC-*.json"))
