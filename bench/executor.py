"""Mass actions per second: ircli's executor side by side with curl and the sandbox's own ceiling.

One run, interleaved rounds (medians of ``--repeat``), the sandbox (``ircli sandbox serve``, the
default live-flood world) in its own process pinned to CPU 0 and every client pinned to CPU 1:

- the sandbox ceiling: ``wrk`` (bench/sandbox.py's load generator) on single-target suspend and on
  batches of 500;
- ircli single-target: ``streams suspend`` of 17,000 streams then ``accounts freeze`` of the
  17,000 bot accounts, full write-ahead audit in a SQLite file — end-to-end process wall time and
  the ``actions_per_second`` the CLI reports (which excludes start-up);
- the same with the audit store in memory (``--db sqlite:///:memory:``): the audit's share;
- the same with the audit store on PostgreSQL: a throwaway server on loopback
  (tests/pgserver.py, committing durably as a default server does, not pinned), a new database
  per run; skipped, with the reason printed, where the server binaries are missing;
- ircli batch mode (``--batch 500``): 40,000 stream suspends and 100,000 account freezes;
- what an on-call engineer would otherwise type: a bash ``for`` loop of ``curl``, ``xargs -P 16
  curl`` and one keep-alive ``curl -K`` process reading a config of URLs;
- ircli's fixed start-up: ``ircli --version`` and a one-target run on an audit store that
  already exists (batch wall time less that, per process, is printed with the goals).

The sandbox is reset (``POST /_sandbox/reset``) before every measured client run so each action
changes state; its score is read after each run (answers by status, ``duplicate_effects``).
Prints a table; writes bench/results/executor.json.

    .venv/bin/python bench/executor.py [--repeat 3] [--single 17000] [--curl-ids 500]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
# bench/sandbox.py: wrk, free ports, pinning
import sandbox as sandbox_bench

from tests.pgserver import PostgresServer, PostgresUnavailable, throwaway_server

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_STEP = "ircli-single-postgres"
RESULTS = ROOT / "bench" / "results" / "executor.json"
IRCLI = str(Path(sys.executable).parent / "ircli")
TOKEN = sandbox_bench.TOKEN
SERVER_CPU, CLIENT_CPU = 0, 1


LIBRARIES = {
    "httpx": "httpx AsyncClient, own pool",
    "httpx-aiohttp": "httpx over httpx-aiohttp",
    "aiohttp": "aiohttp ClientSession (ircli's)",
}
"""The HTTP stacks measured in bare loops (bench/clients.py), by their labels in the table."""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_pinned = sandbox_bench.pinned


# -- the sandbox -----------------------------------------------------------------------------


class Sandbox:
    """A running ``ircli sandbox serve`` and its admin endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}"},
            data=json.dumps(body or {}).encode() if method in ("POST", "PUT") else None,
        )
        if method in ("POST", "PUT"):
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=120) as answer:
            result: dict[str, Any] = json.load(answer)
            return result

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset")

    def set_faults(self, faults: dict[str, Any]) -> None:
        self._call("PUT", "/_sandbox/faults", faults)

    def score(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/score")

    def truth(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/truth")


@contextlib.contextmanager
def sandbox_server(seed: int) -> Iterator[Sandbox]:
    """``ircli sandbox serve`` pinned to CPU 0; yields once it prints its ready line."""
    port = sandbox_bench._free_port()
    command = [IRCLI, "sandbox", "serve", "--port", str(port), "--seed", str(seed)]
    child = subprocess.Popen(
        _pinned(command, SERVER_CPU),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ | {"IRCLI_SANDBOX_TOKEN": TOKEN},
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if "sandbox ready at" in line:
                break
        else:
            sys.exit(f"the sandbox did not start: {' '.join(command)} exited {child.wait()}")
        yield Sandbox(f"http://127.0.0.1:{port}")
    finally:
        sandbox_bench.stop(child)


# -- clients ---------------------------------------------------------------------------------


class ClientFailed(Exception):
    """A client run that did not complete: reported in its row, the bench goes on."""


class Workspace:
    """Ids files, a bench copy of the sandbox profile and an empty cwd/config dir for ircli."""

    def __init__(self, root: Path, sandbox: Sandbox, rate: float, memory_db: str) -> None:
        self.root = root
        self.sandbox = sandbox
        self.profile = root / "sandbox-bench.yaml"
        # The shipped profile caps the run at `limits.rate` (5,000 requests/s); `--rate` on the
        # command line would lift it, but see `rate_flag` (an overrides float breaks the audit).
        text = (ROOT / "profiles" / "sandbox.yaml").read_text()
        text, count = re.subn(r"(?m)^(  rate:\s*)\S+", rf"\g<1>{_number(rate)}", text, count=1)
        assert count == 1, "profiles/sandbox.yaml has no limits.rate line"
        self.profile.write_text(text)
        self.env = os.environ | {
            "IRCLI_SANDBOX_URL": sandbox.url,
            "IRCLI_SANDBOX_TOKEN": TOKEN,
            "IRCLI_OPERATOR": "bench",
            "XDG_CONFIG_HOME": str(root / "config"),
        }
        self.dbs = 0
        self.memory_db = memory_db
        self.startup_db: str | None = None
        self.postgres: PostgresServer | None = None
        """The PostgreSQL server, when the bench has one."""

    def ids_file(self, name: str, ids: list[str]) -> Path:
        path = self.root / f"{name}.txt"
        path.write_text("\n".join(ids) + "\n")
        return path

    def new_db(self, store: str) -> str:
        self.dbs += 1
        if store == "memory" and self.memory_db == "tmpfs":
            return str(Path(self.tmpfs) / f"audit-{self.dbs}.db")
        if store == "memory":
            return "sqlite:///:memory:"
        if store == "postgres":
            assert self.postgres is not None
            return self.postgres.create_database("bench")
        return str(self.root / f"audit-{self.dbs}.db")

    @property
    def tmpfs(self) -> str:
        if not hasattr(self, "_tmpfs"):
            self._tmpfs = tempfile.mkdtemp(prefix="ircli-bench-", dir="/dev/shm")
        return self._tmpfs

    def cleanup(self) -> None:
        if hasattr(self, "_tmpfs"):
            shutil.rmtree(self._tmpfs, ignore_errors=True)


def run_ircli(
    ws: Workspace,
    db: str,
    action: list[str],
    ids: Path,
    targets: int,
    *,
    concurrency: int,
    batch: int | None,
    rate_flag: float | None,
    complete: bool = True,
) -> dict[str, Any]:
    """One ircli process; its wall time and the JSON summary it prints (``complete``: a run
    that did not complete is a failure of the bench)."""
    command = [IRCLI, "--json", "--db", db, *action, "--ids-file", str(ids)]
    command += ["--profile", str(ws.profile), "--yes", "--concurrency", str(concurrency)]
    command += ["--max-targets", str(max(targets, 1))]
    if batch:
        command += ["--batch", str(batch)]
    if rate_flag:
        command += ["--rate", _number(rate_flag)]
    command = _pinned(command, CLIENT_CPU)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ws.env, cwd=ws.root)
    wall = time.perf_counter() - started
    summary = None
    with contextlib.suppress(ValueError, IndexError):
        summary = json.loads(done.stdout.strip().splitlines()[-1])
    finished = summary and (not complete or summary.get("status") in ("completed", "incomplete"))
    if not finished or (complete and (done.returncode != 0 or summary["status"] != "completed")):
        raise ClientFailed(
            f"ircli failed (exit {done.returncode}):\n  {' '.join(command)}\n"
            f"stdout: {done.stdout.strip()[-1500:]}\nstderr: {done.stderr.strip()[-1500:]}"
        )
    return {
        "action": " ".join(action),
        "targets": targets,
        "wall_s": wall,
        "status": summary["status"],
        "elapsed_s": summary["elapsed_seconds"],
        "cli_actions_per_s": summary["actions_per_second"],
        "requests": sum(summary["http_requests"].values()),  # its preflight read included
        "retries": summary["retries"],
        "counts": summary["counts"],
        "audit_seq": (summary.get("audit_head") or {}).get("seq"),
    }


def _checked_score(sandbox: Sandbox, expected_200: int) -> dict[str, Any]:
    score = sandbox.score()
    answers = score["requests"]
    return {
        "duplicate_effects": score["duplicate_effects"],
        "answers": answers,
        "unexpected_answers": sum(n for code, n in answers.items() if code != "200")
        + abs(answers.get("200", 0) - expected_200),
    }


def ircli_pair(
    ws: Workspace,
    store: str,
    parts: list[tuple[list[str], Path, int]],
    *,
    concurrency: int,
    batch: int | None,
    rate_flag: float | None,
) -> dict[str, Any]:
    """Reset, then run each (action, ids) in turn against one audit store; totals and score."""
    ws.sandbox.reset()
    db = ws.new_db(store)
    runs = [
        run_ircli(ws, db, action, ids, n, concurrency=concurrency, batch=batch, rate_flag=rate_flag)
        for action, ids, n in parts
    ]
    targets = sum(n for _, _, n in parts)
    requests = sum(r["requests"] for r in runs)
    return {
        "parts": runs,
        "targets": targets,
        "wall_s": sum(r["wall_s"] for r in runs),
        "elapsed_s": sum(r["elapsed_s"] for r in runs),
        "score": _checked_score(ws.sandbox, requests),
    }


def ircli_faulted(
    ws: Workspace,
    faults: dict[str, Any],
    parts: list[tuple[list[str], Path, int]],
    **options: Any,
) -> dict[str, Any]:
    """Like ``ircli_pair`` with the sandbox's fault injection on: answers by status, retries,
    and what did not complete (a run may end ``incomplete``: that is a result here)."""
    ws.sandbox.reset()
    ws.sandbox.set_faults(faults)
    try:
        db = ws.new_db("file")
        runs = [run_ircli(ws, db, a, ids, n, complete=False, **options) for a, ids, n in parts]
    finally:
        ws.sandbox.set_faults({})
    score = ws.sandbox.score()
    return {
        "faults": faults,
        "parts": runs,
        "targets": sum(n for _, _, n in parts),
        "wall_s": sum(r["wall_s"] for r in runs),
        "elapsed_s": sum(r["elapsed_s"] for r in runs),
        "retries": sum(r["retries"] for r in runs),
        "not_done": sum(
            r["counts"].get(k, 0) for r in runs for k in ("retryable", "failed", "unknown")
        ),
        "answers": score["requests"],
        "duplicate_effects": score["duplicate_effects"],
    }


def client_loop(ws: Workspace, client: str, count: int, concurrency: int) -> dict[str, Any]:
    """bench/clients.py: one HTTP library in a bare loop, no ircli around it."""
    ws.sandbox.reset()
    command = [sys.executable, str(ROOT / "bench" / "clients.py"), ws.sandbox.url, TOKEN]
    command += ["--client", client, "--ids", str(count), "--concurrency", str(concurrency)]
    done = subprocess.run(_pinned(command, CLIENT_CPU), capture_output=True, text=True)
    if done.returncode != 0:
        raise ClientFailed(f"{client} loop failed: {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _curl_base() -> list[str]:
    return ["curl", "-s", "-X", "POST", "-H", f"Authorization: Bearer {TOKEN}"]


def _timed_shell(ws: Workspace, command: list[str], expected: int, **kw: Any) -> dict[str, Any]:
    ws.sandbox.reset()
    started = time.perf_counter()
    subprocess.run(_pinned(command, CLIENT_CPU), check=True, cwd=ws.root, **kw)
    wall = time.perf_counter() - started
    return {"targets": expected, "wall_s": wall, "score": _checked_score(ws.sandbox, expected)}


def curl_loop(ws: Workspace, ids: Path, count: int) -> dict[str, Any]:
    """A bash ``for`` loop, one curl process per id."""
    url = f"{ws.sandbox.url}/api/v1/streams/$id/suspend"
    script = (
        f"for id in $(cat {ids}); do curl -s -o /dev/null -X POST "
        f"-H 'Authorization: Bearer {TOKEN}' \"{url}\"; done"
    )
    return _timed_shell(ws, ["bash", "-c", script], count)


def curl_xargs(ws: Workspace, ids: Path, count: int) -> dict[str, Any]:
    """``xargs -P 16 curl``, one curl process per id, 16 at a time."""
    url = f"{ws.sandbox.url}/api/v1/streams/{{}}/suspend"
    command = ["xargs", "-P", "16", "-I{}", *_curl_base(), "-o", "/dev/null", url]
    with ids.open() as stdin:
        return _timed_shell(ws, command, count, stdin=stdin)


def curl_config(ws: Workspace, ids: list[str]) -> dict[str, Any]:
    """One ``curl -K`` process: sequential requests over one keep-alive connection."""
    config = ws.root / "curl-urls.cfg"
    config.write_text(
        "".join(f'url = "{ws.sandbox.url}/api/v1/streams/{i}/suspend"\n' for i in ids)
    )
    command = [*_curl_base(), "-K", str(config)]
    return _timed_shell(ws, command, len(ids), stdout=subprocess.DEVNULL)


def startup(ws: Workspace, ids: Path) -> dict[str, Any]:
    """The fixed cost of one ircli process: ``--version``, and a one-target run on an audit
    store that already exists (what an on-call engineer's second command pays)."""
    if ws.startup_db is None:
        ws.startup_db = ws.new_db("file")
        run_ircli(ws, ws.startup_db, ["accounts", "freeze"], ids, 1, **_ONE_TARGET)  # creates it
    one = run_ircli(ws, ws.startup_db, ["accounts", "freeze"], ids, 1, **_ONE_TARGET)
    started = time.perf_counter()
    subprocess.run(
        _pinned([IRCLI, "--version"], CLIENT_CPU), check=True, env=ws.env, capture_output=True
    )
    return {"one_target_wall_s": one["wall_s"], "version_wall_s": time.perf_counter() - started}


_ONE_TARGET: dict[str, Any] = {"concurrency": 1, "batch": None, "rate_flag": None}


# -- main ------------------------------------------------------------------------------------


def _streams(count: int) -> list[str]:
    return [f"str_{k:07d}" for k in range(count)]


def _accounts(count: int) -> list[str]:
    return [f"acc_{k:07d}" for k in range(count)]


def measure(sandbox: Sandbox, ws: Workspace, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every client once per round, interleaved; each round a dict of step name → result."""
    rate_flag = args.rate if args.rate_flag else None
    bots = sandbox.truth()["bot_account_ids"][: args.single]
    single = [
        (["streams", "suspend"], ws.ids_file("streams", _streams(args.single)), args.single),
        (["accounts", "freeze"], ws.ids_file("bots", bots), len(bots)),
    ]
    streams, accounts = _streams(args.batch_streams), _accounts(args.batch_accounts)
    batched = [
        (["streams", "suspend"], ws.ids_file("batch-streams", streams), len(streams)),
        (["accounts", "freeze"], ws.ids_file("batch-accounts", accounts), len(accounts)),
    ]
    curl_ids = ws.ids_file("curl", _streams(args.curl_ids))
    one = {"concurrency": args.concurrency, "batch": None, "rate_flag": rate_flag}
    many = {"concurrency": args.batch_concurrency, "batch": args.batch_size, "rate_flag": rate_flag}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("ceiling-single", lambda: sandbox_bench.run_wrk(sandbox.port, 1, args.duration)),
        (
            "ceiling-batch",
            lambda: sandbox_bench.run_wrk(sandbox.port, args.batch_size, args.duration),
        ),
        ("ircli-single-file", lambda: ircli_pair(ws, "file", single, **one)),
        ("ircli-single-memory", lambda: ircli_pair(ws, "memory", single, **one)),
        *(
            [(POSTGRES_STEP, lambda: ircli_pair(ws, "postgres", single, **one))]
            if ws.postgres
            else []
        ),
        ("ircli-batch-file", lambda: ircli_pair(ws, "file", batched, **many)),
        ("curl-loop", lambda: curl_loop(ws, curl_ids, args.curl_ids)),
        ("xargs-curl", lambda: curl_xargs(ws, curl_ids, args.curl_ids)),
        ("curl-K", lambda: curl_config(ws, _streams(args.curl_k_ids))),
        ("ircli-startup", lambda: startup(ws, ws.ids_file("one", accounts[:1]))),
        *(
            (f"lib-{lib}", lambda lib=lib: client_loop(ws, lib, args.lib_ids, args.concurrency))
            for lib in LIBRARIES
        ),
        ("ircli-single-5xx", lambda: ircli_faulted(ws, {"5xx": 0.05}, single, **one)),
        (
            "ircli-rate-limited",
            lambda: ircli_faulted(ws, {"rate": args.platform_rate}, single[:1], **one),
        ),
    ]
    if args.only:
        unknown = set(args.only) - {name for name, _ in steps} - {POSTGRES_STEP}
        if unknown:
            sys.exit(f"unknown steps: {', '.join(sorted(unknown))}")
        steps = [(name, step) for name, step in steps if name in args.only]
    sandbox_bench.run_wrk(sandbox.port, 1, 1.0)  # warm-up: connections, caches
    sandbox_bench.run_wrk(sandbox.port, args.batch_size, 1.0)
    begun = time.perf_counter()
    rounds = []
    for index in range(args.repeat):
        result: dict[str, Any] = {}
        for name, step in steps:
            try:
                result[name] = step()
            except ClientFailed as failure:
                result[name] = {"error": str(failure)}
                print(f"  {name} failed:\n{failure}", flush=True)
        rounds.append(result)
        print(f"  round {index + 1}/{args.repeat} done ({time.perf_counter() - begun:.0f} s)")
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--single", type=int, default=17_000, help="suspends and freezes each")
    parser.add_argument("--batch-streams", type=int, default=40_000)
    parser.add_argument("--batch-accounts", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64, help="ircli single-target")
    parser.add_argument("--batch-concurrency", type=int, default=64, help="ircli batch mode")
    parser.add_argument("--rate", type=float, default=1_000_000, help="ircli's rate limit")
    parser.add_argument(
        "--rate-flag",
        action="store_true",
        help="pass the rate as ircli's --rate flag instead of in a bench copy of the profile",
    )
    parser.add_argument(
        "--memory-db",
        choices=("sqlite-memory", "tmpfs"),
        default="sqlite-memory",
        help="the 'audit in memory' store: --db sqlite:///:memory: or a SQLite file in /dev/shm",
    )
    parser.add_argument("--curl-ids", type=int, default=500, help="ids for the curl loop/xargs")
    parser.add_argument("--curl-k-ids", type=int, default=10_000, help="ids for curl -K")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument(
        "--only", nargs="+", metavar="STEP", help="run these steps only (no table; JSON rounds)"
    )
    parser.add_argument("--lib-ids", type=int, default=10_000, help="ids per HTTP-library loop")
    parser.add_argument(
        "--platform-rate", type=float, default=1000, help="the sandbox's own rate limit (429s)"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="no run with the audit on PostgreSQL"
    )
    args = parser.parse_args()
    if not sandbox_bench.ensure_wrk():
        sys.exit("wrk is not installed and could not be installed.")
    begun = time.perf_counter()
    with (
        sandbox_server(args.seed) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
        contextlib.ExitStack() as servers,
    ):
        ws = Workspace(Path(tmp), sandbox, args.rate, args.memory_db)
        (ws.root / "config").mkdir()
        args.postgres_skipped = _start_postgres(ws, servers, args)
        if args.postgres_skipped:
            print(f"PostgreSQL rows skipped: {args.postgres_skipped}.", flush=True)
        try:
            rounds = measure(sandbox, ws, args)
        finally:
            ws.cleanup()
    if args.only:
        print(json.dumps(rounds, indent=2))
        return
    rows, summary = summarise(rounds, args)
    print_table(rows, summary, rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "executor",
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pinning": "sandbox (ircli sandbox serve) on CPU 0, every client on CPU 1",
        "settings": vars(args),
        "rate_limit_via": "--rate flag" if args.rate_flag else "bench copy of the sandbox profile",
        "bench_seconds": round(time.perf_counter() - begun, 1),
        "results": rows,
        "summary": summary,
        "rounds": rounds,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)} ({document['bench_seconds']:.0f} s in all)")


def _start_postgres(
    ws: Workspace, servers: contextlib.ExitStack, args: argparse.Namespace
) -> str | None:
    """Start the PostgreSQL server if a step needs it; why not, if it cannot (None: it runs,
    or no step asks for it)."""
    if args.no_postgres:
        return "--no-postgres"
    if args.only and POSTGRES_STEP not in args.only:
        return None
    try:
        ws.postgres = servers.enter_context(throwaway_server(fsync=True))
    except PostgresUnavailable as missing:
        return str(missing)
    return None


# -- the table ---------------------------------------------------------------------------------


def _median_of(
    rounds: list[dict[str, Any]], name: str, fn: Callable[[dict[str, Any]], float]
) -> float | None:
    """Median of ``fn`` over the rounds where step ``name`` succeeded (None if it never did)."""
    values = [fn(r[name]) for r in rounds if "error" not in r[name]]
    return statistics.median(values) if values else None


def _round(value: float | None, digits: int | None = None) -> float | None:
    return None if value is None else round(value, digits)


def summarise(
    rounds: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Median rows for the table and the goal checks."""

    def med(name: str, fn: Callable[[dict[str, Any]], float]) -> float | None:
        return _median_of(rounds, name, fn)

    def row(client: str, mode: str, ceiling: str, name: str, **values: Any) -> dict[str, Any]:
        failed = sum("error" in r[name] for r in rounds)
        fields = {
            "targets": None,
            "seconds": None,
            "actions_per_s": None,
            "cli_actions_per_s": None,
        }
        return {"client": client, "mode": mode, "step": name, "ceiling": ceiling} | (
            fields | values | {"runs": len(rounds) - failed, "failed_runs": failed}
        )

    ceiling_single = med("ceiling-single", lambda r: r["req_per_s"])
    ceiling_batch = _round(
        (med("ceiling-batch", lambda r: r["req_per_s"]) or 0) * args.batch_size or None
    )
    wrk = "sandbox ceiling (wrk, 64 conns)"
    rows = [
        row(wrk, "single suspend", "single", "ceiling-single", actions_per_s=ceiling_single),
        row(wrk, f"batch {args.batch_size} suspend", "batch", "ceiling-batch",
            actions_per_s=ceiling_batch),
    ]  # fmt: skip
    memory = "in memory" if args.memory_db == "sqlite-memory" else "on tmpfs"
    for name, client, mode, ceiling in (
        ("ircli-single-file", "ircli, audit file", "single", "single"),
        ("ircli-single-memory", f"ircli, audit {memory}", "single", "single"),
        *(
            [(POSTGRES_STEP, "ircli, audit on PostgreSQL", "single", "single")]
            if POSTGRES_STEP in rounds[0]
            else []
        ),
        ("ircli-batch-file", "ircli, audit file", f"batch {args.batch_size}", "batch"),
    ):
        parts = [(a, " ".join(a), n) for a, n in (
            (["streams", "suspend"], args.single if mode == "single" else args.batch_streams),
            (["accounts", "freeze"], args.single if mode == "single" else args.batch_accounts),
        )]  # fmt: skip
        for i, (_, label, count) in enumerate(parts):
            rows.append(
                row(
                    client, f"{mode}: {label}", ceiling, name,
                    targets=count,
                    seconds=med(name, lambda r, i=i: r["parts"][i]["wall_s"]),
                    actions_per_s=med(name, lambda r, i=i: r["parts"][i]["targets"]
                                      / r["parts"][i]["wall_s"]),
                    cli_actions_per_s=med(name, lambda r, i=i: r["parts"][i]["cli_actions_per_s"]),
                )
            )  # fmt: skip
        rows.append(
            row(
                client, f"{mode}: total", ceiling, name,
                targets=sum(n for _, _, n in parts),
                seconds=med(name, lambda r: r["wall_s"]),
                actions_per_s=med(name, lambda r: r["targets"] / r["wall_s"]),
                cli_actions_per_s=med(name, lambda r: r["targets"] / r["elapsed_s"]),
            )
        )  # fmt: skip
    for name, client, count in (
        ("curl-loop", "bash for-loop of curl", args.curl_ids),
        ("xargs-curl", "xargs -P 16 curl", args.curl_ids),
        ("curl-K", "curl -K (1 process, keep-alive)", args.curl_k_ids),
    ):
        rows.append(
            row(
                client, "single suspend", "single", name,
                targets=count,
                seconds=med(name, lambda r: r["wall_s"]),
                actions_per_s=med(name, lambda r: r["targets"] / r["wall_s"]),
            )
        )  # fmt: skip
    for lib, label in LIBRARIES.items():
        name = f"lib-{lib}"
        rows.append(
            row(label, "single suspend, bare loop", "single", name, targets=args.lib_ids,
                seconds=med(name, lambda r: r["wall_s"]),
                actions_per_s=med(name, lambda r: r["targets"] / r["wall_s"]))
        )  # fmt: skip
    rows.append(
        row("ircli, audit file, 5xx=0.05", "single: total", "single", "ircli-single-5xx",
            targets=2 * args.single,
            seconds=med("ircli-single-5xx", lambda r: r["wall_s"]),
            actions_per_s=med("ircli-single-5xx", lambda r: r["targets"] / r["wall_s"]),
            cli_actions_per_s=med("ircli-single-5xx", lambda r: r["targets"] / r["elapsed_s"]))
    )  # fmt: skip
    rows.append(
        row(f"ircli, sandbox rate={_number(args.platform_rate)}", "single: streams suspend",
            "single", "ircli-rate-limited", targets=args.single,
            seconds=med("ircli-rate-limited", lambda r: r["wall_s"]),
            actions_per_s=med("ircli-rate-limited", lambda r: r["targets"] / r["wall_s"]),
            cli_actions_per_s=med("ircli-rate-limited", lambda r: r["targets"] / r["elapsed_s"]))
    )  # fmt: skip
    for mode, key in (("--version", "version_wall_s"), ("one-target run", "one_target_wall_s")):
        rows.append(
            row("ircli start-up", mode, "none", "ircli-startup",
                targets=1 if key == "one_target_wall_s" else None,
                seconds=med("ircli-startup", lambda r, key=key: r[key]))
        )  # fmt: skip
    for entry in rows:
        base = {"single": ceiling_single, "batch": ceiling_batch}.get(entry["ceiling"])
        for key, ratio in (("actions_per_s", "ratio_to_ceiling"),
                           ("cli_actions_per_s", "cli_ratio_to_ceiling")):  # fmt: skip
            value = entry[key]
            entry[ratio] = round(value / base, 3) if value is not None and base else None
        entry["seconds"] = _round(entry["seconds"], 3)
        for key in ("actions_per_s", "cli_actions_per_s"):
            entry[key] = _round(entry[key])
    return rows, _goals(rows, rounds, args, memory)


def _goals(
    rows: list[dict[str, Any]], rounds: list[dict[str, Any]], args: argparse.Namespace, memory: str
) -> dict[str, Any]:
    def total(client: str, mode: str) -> dict[str, Any]:
        return next(r for r in rows if r["client"] == client and r["mode"] == f"{mode}: total")

    def at_least(value: float | None, goal: float) -> bool | None:
        return None if value is None else value >= goal

    startup = next(r for r in rows if r["mode"] == "one-target run")["seconds"]
    single = total("ircli, audit file", "single")
    in_memory = total(f"ircli, audit {memory}", "single")
    batch = total("ircli, audit file", f"batch {args.batch_size}")
    postgres = total("ircli, audit on PostgreSQL", "single") if POSTGRES_STEP in rounds[0] else None
    faulted = total("ircli, audit file, 5xx=0.05", "single")
    ok = [r[n] for r in rounds for n in r if "error" not in r[n] and "score" in r[n]]
    ircli_ok = [r[n] for r in rounds for n in r if n.startswith("ircli") and "score" in r[n]]
    seconds = single["seconds"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    return {
        "single_targets": single["targets"],
        "single_seconds": seconds,
        "single_under_10s": None if seconds is None else seconds < 10,
        "single_actions_per_s": single["actions_per_s"],
        "single_cli_actions_per_s": single["cli_actions_per_s"],
        "single_goal_5000_wall": at_least(single["actions_per_s"], 5_000),
        "single_goal_5000_cli": at_least(single["cli_actions_per_s"], 5_000),
        "batch_actions_per_s": batch["actions_per_s"],
        "batch_cli_actions_per_s": batch["cli_actions_per_s"],
        "batch_goal_100000_wall": at_least(batch["actions_per_s"], 100_000),
        "batch_goal_100000_cli": at_least(batch["cli_actions_per_s"], 100_000),
        "startup_one_target_s": startup,
        # Wall time less one start-up per process (two per total): what the targets cost.
        "batch_actions_per_s_beyond_startup": (
            round(batch["targets"] / (batch["seconds"] - 2 * startup))
            if batch["seconds"] and startup and batch["seconds"] > 2 * startup
            else None
        ),
        "audit_store_compared": f"file vs {memory}",
        "audit_file_over_memory_seconds": ratio(seconds, in_memory["seconds"]),
        "audit_memory_over_file_cli_rate": ratio(
            in_memory["cli_actions_per_s"], single["cli_actions_per_s"]
        ),
        "postgresql": {
            "skipped": args.postgres_skipped,
            "single_seconds": postgres and postgres["seconds"],
            "single_actions_per_s": postgres and postgres["actions_per_s"],
            "single_cli_actions_per_s": postgres and postgres["cli_actions_per_s"],
            "over_file_seconds": postgres and ratio(postgres["seconds"], seconds),
        },
        "duplicate_effects_ircli": sum(r["score"]["duplicate_effects"] for r in ircli_ok),
        "unexpected_answers_ircli": sum(r["score"]["unexpected_answers"] for r in ircli_ok),
        "unexpected_answers_all": sum(r["score"]["unexpected_answers"] for r in ok),
        "failed_runs": {n: sum("error" in r[n] for r in rounds) for n in rounds[0]},
        "faults_5xx_over_fault_free_cli_rate": ratio(
            faulted["cli_actions_per_s"], single["cli_actions_per_s"]
        ),
        "faults_5xx_goal_0_8": at_least(
            ratio(faulted["cli_actions_per_s"], single["cli_actions_per_s"]), 0.8
        ),
        "faults_5xx_not_done": _median_of(rounds, "ircli-single-5xx", lambda r: r["not_done"]),
        "rate_limited": {
            "platform_rate": args.platform_rate,
            "targets": args.single,
            "ideal_seconds": round(args.single / args.platform_rate, 1),
            "cli_seconds": _median_of(rounds, "ircli-rate-limited", lambda r: r["elapsed_s"]),
            "answers_429": _median_of(
                rounds, "ircli-rate-limited", lambda r: r["answers"].get("429", 0)
            ),
            "not_done": _median_of(rounds, "ircli-rate-limited", lambda r: r["not_done"]),
        },
    }


def print_table(
    rows: list[dict[str, Any]], summary: dict[str, Any], rounds: list[dict[str, Any]]
) -> None:
    def num(value: float | None, fmt: str = ",.0f") -> str:
        return "-" if value is None else format(value, fmt)

    def verdict(value: bool | None) -> str:
        return "n/a" if value is None else ("met" if value else "MISSED")

    print()
    header = (
        f"{'client':34} {'mode':30} {'targets':>8} {'seconds':>8} {'actions/s':>10} "
        f"{'CLI act/s':>10} {'x ceiling (CLI)':>16}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = num(row["ratio_to_ceiling"], ".3f")
        if row["cli_ratio_to_ceiling"] is not None:
            ratio += f" ({row['cli_ratio_to_ceiling']:.2f})"
        if row["failed_runs"]:
            ratio += f"  {row['failed_runs']}/{row['failed_runs'] + row['runs']} runs FAILED"
        print(
            f"{row['client']:34} {row['mode']:30} {num(row['targets']):>8} "
            f"{num(row['seconds'], '.2f'):>8} {num(row['actions_per_s']):>10} "
            f"{num(row['cli_actions_per_s']):>10} {ratio:>16}"
        )
    s = summary
    print(
        "\nactions/s = targets / process wall time (start-up included); CLI act/s = what ircli"
        "\nreports (start-up excluded); x ceiling = actions/s over the sandbox's wrk rate for the"
        "\nsame mode (single or batch); in brackets the same for the CLI's own figure."
    )
    print(
        f"\ngoals: {num(s['single_targets'])} single-target actions with full audit in "
        f"{num(s['single_seconds'], '.2f')} s (< 10 s: {verdict(s['single_under_10s'])}); "
        f"single-target {num(s['single_actions_per_s'])} / CLI "
        f"{num(s['single_cli_actions_per_s'])} actions/s (>= 5,000: "
        f"{verdict(s['single_goal_5000_wall'])} / {verdict(s['single_goal_5000_cli'])}); "
        f"batch {num(s['batch_actions_per_s'])} / CLI {num(s['batch_cli_actions_per_s'])} "
        f"actions/s (>= 100,000: {verdict(s['batch_goal_100000_wall'])} / "
        f"{verdict(s['batch_goal_100000_cli'])})"
    )
    print(
        f"start-up: a one-target run takes {num(s['startup_one_target_s'], '.2f')} s of wall "
        f"time; batch wall time less that per process: "
        f"{num(s['batch_actions_per_s_beyond_startup'])} actions/s"
    )
    print(
        f"audit's share ({s['audit_store_compared']}): single-target wall time "
        f"{num(s['audit_file_over_memory_seconds'], '.2f')}x, CLI-reported rate "
        f"{num(s['audit_memory_over_file_cli_rate'], '.2f')}x"
    )
    pg = s["postgresql"]
    if pg["skipped"]:
        print(f"PostgreSQL rows skipped: {pg['skipped']}.")
    else:
        print(
            f"audit on PostgreSQL: {num(s['single_targets'])} single-target actions in "
            f"{num(pg['single_seconds'], '.2f')} s, {num(pg['over_file_seconds'], '.2f')}x the "
            f"SQLite file's wall time (CLI {num(pg['single_cli_actions_per_s'])} actions/s)"
        )
    print(
        f"sandbox score after the ircli runs: duplicate_effects = "
        f"{s['duplicate_effects_ircli']}, non-200 or missing answers = "
        f"{s['unexpected_answers_ircli']} (all clients: {s['unexpected_answers_all']})"
    )
    limited = s["rate_limited"]
    print(
        f"with 5xx=0.05: {num(s['faults_5xx_over_fault_free_cli_rate'], '.2f')}x the fault-free "
        f"CLI rate (>= 0.8: {verdict(s['faults_5xx_goal_0_8'])}), "
        f"{num(s['faults_5xx_not_done'])} targets not done"
    )
    print(
        f"sandbox rate limit {num(limited['platform_rate'])}/s: {num(limited['targets'])} "
        f"suspends took {num(limited['cli_seconds'], '.1f')} s (ideal "
        f"{limited['ideal_seconds']} s), {num(limited['answers_429'])} answers 429, "
        f"{num(limited['not_done'])} targets not done"
    )
    failures = {r[n]["error"] for r in rounds for n in r if "error" in r[n]}
    for failure in sorted(failures):
        print(f"\nFAILED: {failure}")


if __name__ == "__main__":
    main()
