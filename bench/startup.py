"""Start-up: the wall time of one ircli process, side by side with ``python -c pass`` and a
bare Typer app, in one run.

Cases, each run ``--repeat`` times in interleaved rounds (every process pinned to CPU 1; the
sandbox, a small world, pinned to CPU 0):

- ``python -c pass``: the interpreter alone;
- a bare Typer app (two commands, one option each): ``--help`` and one command;
- ``ircli --version``, ``ircli --help``;
- store-reading commands on an existing store: ``incident list`` and ``runs list``;
- a one-target run: ``accounts freeze --id … --yes`` against the sandbox (preflight read,
  the action, its audit records).

For each ircli case one extra run with ``-X importtime`` lists the libraries it loaded and
their import time (a command should load only what it needs). Prints a table; writes
bench/results/startup.json.

    .venv/bin/python bench/startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/sandbox.py: free ports, pinning, stopping servers
import sandbox as sandbox_bench

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "startup.json"
PYTHON = sys.executable
IRCLI = str(Path(sys.executable).parent / "ircli")
SERVER_CPU, CLIENT_CPU = 0, 1
LIBRARIES = {
    "typer": "typer", "click": "typer", "rich": "rich", "pygments": "rich",
    "sqlalchemy": "sqlalchemy", "alembic": "alembic", "pydantic": "pydantic",
    "pydantic_core": "pydantic", "annotated_types": "pydantic", "yaml": "yaml",
    "aiohttp": "aiohttp", "yarl": "aiohttp", "multidict": "aiohttp", "propcache": "aiohttp",
    "frozenlist": "aiohttp", "aiosignal": "aiohttp", "aiohappyeyeballs": "aiohttp",
    "httpx": "httpx", "httpcore": "httpx", "h11": "httpx", "anyio": "httpx", "idna": "httpx",
    "certifi": "httpx", "sniffio": "httpx", "httpx_aiohttp": "httpx", "uvicorn": "uvicorn",
    "keyring": "keyring",
}  # fmt: skip
"""Top-level modules by the library they are counted under."""
BARE_TYPER = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def bye(name: str = "world") -> None:
    """Say goodbye."""
    print(f"bye {name}")


if __name__ == "__main__":
    app()
'''


@contextlib.contextmanager
def sandbox() -> Iterator[str]:
    """A small sandbox world on CPU 0; yields its URL once it answers (30 s at most)."""
    port = sandbox_bench._free_port()
    command = [IRCLI, "sandbox", "serve", "--port", str(port), "--accounts", "3000",
               "--streams", "400", "--bots", "300", "--compromised", "20"]  # fmt: skip
    child = subprocess.Popen(
        sandbox_bench.pinned(command, SERVER_CPU),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit(f"the sandbox at {url} did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        sandbox_bench.stop(child)


def cases(bare: Path) -> list[tuple[str, str, list[str]]]:
    """(group, label, argv) of every measured command."""
    return [
        ("baseline", "python -c pass", [PYTHON, "-c", "pass"]),
        ("baseline", "bare Typer app --help", [PYTHON, str(bare), "--help"]),
        ("baseline", "bare Typer app, one command", [PYTHON, str(bare), "hello", "--name", "x"]),
        ("ircli", "ircli --version", [IRCLI, "--version"]),
        ("ircli", "ircli --help", [IRCLI, "--help"]),
        ("ircli", "ircli incident list", [IRCLI, "incident", "list"]),
        ("ircli", "ircli runs list", [IRCLI, "runs", "list"]),
        ("ircli", "ircli one-target run",
         [IRCLI, "accounts", "freeze", "--id", "acc_0000001", "--yes", "--reason", "bench"]),
    ]  # fmt: skip


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        sandbox_bench.pinned(argv, CLIENT_CPU), env=env, capture_output=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def imported(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """The libraries an ircli command loads, and their import time in ms (``-X importtime``)."""
    command = [PYTHON, "-X", "importtime", "-m", "ircli", *argv[1:]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    loaded: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$", line)
        library = match and LIBRARIES.get(match[2].split(".")[0])
        if match and library:  # its own modules' time, not counting other libraries'
            loaded[library] = loaded.get(library, 0.0) + int(match[1]) / 1000
    return {name: round(ms) for name, ms in loaded.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ircli-startup-") as tmp, sandbox() as url:
        bare = Path(tmp, "bare.py")
        bare.write_text(BARE_TYPER)
        # As installed for a user: bytecode is cached (PYTHONDONTWRITEBYTECODE, set in some
        # containers, would recompile every ircli module in every process).
        skipped = ("IRCLI_", "XDG_", "PYTHONDONTWRITEBYTECODE")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(skipped)},
            "HOME": tmp,
            "IRCLI_DB": str(Path(tmp, "audit.db")),
            "IRCLI_PROFILE": "sandbox",
            "IRCLI_SANDBOX_URL": url,
        }
        # The store the reading commands read: an incident, a note, and the warm-up runs.
        opened = subprocess.run([IRCLI, "incident", "open", "Bench", "-s", "P3"], env=env,
                                capture_output=True, text=True, check=True)  # fmt: skip
        env["IRCLI_INCIDENT"] = opened.stdout.strip()
        measured = cases(bare)
        for _group, _label, argv in measured:  # warm-up: page cache, .pyc files
            timed(argv, env)
        walls: dict[str, list[float]] = {label: [] for _g, label, _a in measured}
        for _round in range(args.repeat):
            for _group, label, argv in measured:
                walls[label].append(timed(argv, env))
        loads = {label: imported(argv, env) for group, label, argv in measured if group == "ircli"}
    python = statistics.median(walls["python -c pass"])
    rows = [
        {
            "group": group,
            "command": label,
            "median_s": round(statistics.median(walls[label]), 3),
            "min_s": round(min(walls[label]), 3),
            "over_python_s": round(statistics.median(walls[label]) - python, 3),
            "libraries_ms": loads.get(label),
        }
        for group, label, _argv in measured
    ]
    result = {
        "bench": "startup",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "repeat": args.repeat,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print_table(rows)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'command':<30} {'median':>8} {'min':>7} {'over python':>12}  libraries loaded (ms)")
    for row in rows:
        loaded = row["libraries_ms"]
        libraries = ", ".join(f"{k} {v:g}" for k, v in loaded.items()) if loaded else ""
        if loaded == {}:
            libraries = "none"
        print(
            f"{row['command']:<30} {row['median_s']:>7.3f}s {row['min_s']:>6.3f}s "
            f"{row['over_python_s']:>11.3f}s  {libraries}"
        )


if __name__ == "__main__":
    main()
