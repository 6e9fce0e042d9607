"""How fast the sandbox serves suspends: the ceiling every client benchmark is compared with.

Runs side by side, in one go: a trivial Starlette endpoint (the baseline) and the sandbox, each
in its own process pinned to CPU 0, driven by a load generator pinned to CPU 1 (``wrk`` when it
is installed or installable, else a raw asyncio HTTP/1.1 keep-alive client), for single-target
suspend and batch suspend of 100 and 500 ids. Prints a table; writes bench/results/sandbox.json.

    .venv/bin/python bench/sandbox.py [--duration 4] [--repeat 3] [--client auto|wrk|raw]

``--after-idle`` measures instead what one request costs after the sandbox was left alone:
the latency of requests that end a stream (single suspends), fresh and after ``--jump``
seconds (600) of the injected clock, in process (the ASGI app called directly), with the
swarm's rotation and with the walk over every attacker it replaced side by side. ``--idle
SECONDS`` adds the same over loopback HTTP after a real wait. Writes
bench/results/sandbox-idle.json.

    .venv/bin/python bench/sandbox.py --after-idle [--jump 600] [--requests 200] [--idle 600]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sandbox.json"
IDLE_RESULTS = ROOT / "bench" / "results" / "sandbox-idle.json"
TOKEN = "bench-token"
CONNECTIONS = 64
STREAMS = 41_000  # ids cycled through; the default world has ~41,450 streams at start
ENDPOINTS = (("single", 1), ("batch", 100), ("batch", 500))


# -- servers (run in child processes) ------------------------------------------------------


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def serve_sandbox(port: int) -> None:
    """Child process: the sandbox with the default live-flood world."""
    _pin(0)
    sys.path.insert(0, str(ROOT))
    from ircli.sandbox import WorldConfig, create_app, serve_app

    app = create_app(WorldConfig(bot_rate=20.0), token=TOKEN)
    with serve_app(app, port=port):
        print("ready", flush=True)
        while True:
            time.sleep(3600)


def serve_baseline(port: int) -> None:
    """Child process: the simplest Starlette app answering the same paths."""
    _pin(0)
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def single(request: Request) -> JSONResponse:
        ident = request.path_params["id"]
        return JSONResponse({"id": ident, "ok": True, "result": "suspended", "changed": True})

    async def batch(request: Request) -> JSONResponse:
        ids = (await request.json())["ids"]
        results = [{"id": i, "ok": True, "result": "suspended", "changed": True} for i in ids]
        return JSONResponse({"results": results})

    app = Starlette(
        routes=[
            Route("/api/v1/streams/batch/{action}", batch, methods=["POST"]),
            Route("/api/v1/streams/{id}/{action}", single, methods=["POST"]),
        ]
    )
    config = uvicorn.Config(
        app,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="off",
        server_header=False,
        date_header=False,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    print("ready", flush=True)
    server.run()


def pinned(command: list[str], cpu: int) -> list[str]:
    """``command`` run on one CPU (``taskset``), where there is more than one."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *command]
    return command


def stop(child: subprocess.Popen[Any]) -> None:
    """Terminate a server child; kill it if it has not gone within 10 s."""
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server_process(kind: str) -> Iterator[int]:
    """Start a server child (pinned to CPU 0) and yield its port once it answers."""
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield port
    finally:
        stop(child)


# -- load generators -----------------------------------------------------------------------


def _ids(start: int, count: int) -> list[str]:
    return [f"str_{(start + k) % STREAMS:07d}" for k in range(count)]


_WRK_SCRIPT = """
local batch = %(batch)d
local streams = %(streams)d
local counter = 0
local token = "%(token)s"
local prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)) .. "-"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. counter
  local first = (counter - 1) * batch
  local action = "suspend"
  if math.floor(first / streams) %% 2 == 1 then action = "resume" end
  if batch == 1 then
    local id = string.format("str_%%07d", first %% streams)
    return wrk.format("POST", "/api/v1/streams/" .. id .. "/" .. action, nil, "")
  end
  local ids = {}
  for k = 0, batch - 1 do
    ids[#ids + 1] = string.format('"str_%%07d"', (first + k) %% streams)
  end
  local body = '{"ids":[' .. table.concat(ids, ",") .. ']}'
  return wrk.format("POST", "/api/v1/streams/batch/" .. action, nil, body)
end
"""


def run_wrk(port: int, batch: int, duration: float) -> dict[str, float]:
    """One wrk run (one thread, CONNECTIONS connections) pinned to CPU 1."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % {"batch": batch, "streams": STREAMS, "token": TOKEN})
    try:
        command = [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(duration))}s",
            "-s",
            script.name,
        ]
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            command = ["taskset", "-c", "1", *command]
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"req_per_s": rate, "non_2xx": float(bad.group(1)) if bad else 0.0} | (
        {"socket_errors": 1.0} if errors else {}
    )


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as a response is complete."""

    def __init__(self, make_request: object, stats: dict[str, int], stop_at: float) -> None:
        self.make_request = make_request
        self.stats = stats
        self.stop_at = stop_at
        self.buffer = b""
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport.write(self.make_request())  # type: ignore[operator]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end]
            length_at = head.lower().find(b"content-length:")
            length = int(head[length_at + 15 :].split(b"\r\n", 1)[0]) if length_at >= 0 else 0
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            status = head[9:12]
            self.stats["ok" if status == b"200" else "bad"] += 1
            self.buffer = self.buffer[end:]
            if time.monotonic() >= self.stop_at:
                self.transport.close()
                return
            self.transport.write(self.make_request())  # type: ignore[operator]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _raw_load(port: int, batch: int, duration: float) -> dict[str, float]:
    counter = 0
    prefix = f"{time.time_ns()}-"

    def make_request() -> bytes:
        nonlocal counter
        counter += 1
        first = (counter - 1) * batch
        action = "resume" if (first // STREAMS) % 2 else "suspend"
        key = f"Idempotency-Key: {prefix}{counter}\r\n"
        auth = f"Authorization: Bearer {TOKEN}\r\n"
        if batch == 1:
            path = f"/api/v1/streams/str_{first % STREAMS:07d}/{action}"
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}{key}Content-Length: 0\r\n\r\n"
            return head.encode()
        body = json.dumps({"ids": _ids(first, batch)}).encode()
        head = (
            f"POST /api/v1/streams/batch/{action} HTTP/1.1\r\nHost: x\r\n{auth}{key}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    loop = asyncio.get_running_loop()
    stats = {"ok": 0, "bad": 0}
    started = time.monotonic()
    stop_at = started + duration
    connections = []
    for _ in range(CONNECTIONS):
        _transport, protocol = await loop.create_connection(
            lambda: _Connection(make_request, stats, stop_at), "127.0.0.1", port
        )
        connections.append(protocol)
    await asyncio.gather(*(c.done for c in connections))
    elapsed = time.monotonic() - started
    return {"req_per_s": (stats["ok"] + stats["bad"]) / elapsed, "non_2xx": float(stats["bad"])}


def run_raw(port: int, batch: int, duration: float) -> dict[str, float]:
    """One run of the raw asyncio client (uvloop when installed) on CPU 1."""
    _pin(1)
    try:
        import uvloop

        return uvloop.run(_raw_load(port, batch, duration))
    except ImportError:
        return asyncio.run(_raw_load(port, batch, duration))


def ensure_wrk() -> bool:
    """Whether wrk is usable, installing Debian's package when running as root."""
    if shutil.which("wrk"):
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk") is not None


# -- after idle ----------------------------------------------------------------------------

STEP = 0.05  # injected-clock seconds between two requests: an attacker stream is due on each


class _InProcess:
    """Calls the ASGI app directly on one event loop, on a clock the bench moves."""

    def __init__(self, config: Any, walking: bool) -> None:
        from datetime import UTC, datetime

        from ircli.sandbox import create_app

        self.now = time.time()
        self.app = create_app(
            config, token=TOKEN, clock=lambda: datetime.fromtimestamp(self.now, UTC)
        )
        if walking:  # the platform as it was: walking the attackers, giving up on none
            from tests.sandbox.walking import WalkingPlatform

            self.app.platform.__class__ = WalkingPlatform
            self.app.platform.pointer = 0
            self.app.platform.give_up = True
        self.loop = asyncio.new_event_loop()

    def live_streams(self, count: int) -> list[str]:
        """Live streams to end, honest and malicious alternately (read from the state)."""
        world = self.app.platform.world
        live = [s for s in range(world.stream_count) if world.s_status[s] == 0]
        honest = [s for s in live if not world.s_malicious[s]][:count]
        malicious = [s for s in live if world.s_malicious[s]][:count]
        mixed = [s for pair in zip(honest, malicious, strict=False) for s in pair]
        return [f"str_{s:07d}" for s in (mixed + honest + malicious)[:count]]

    def suspend(self, ident: str) -> float:
        """One single suspend; its latency in seconds (the clock moves ``STEP`` first)."""
        self.now += STEP
        scope = {
            "type": "http",
            "method": "POST",
            "path": f"/api/v1/streams/{ident}/suspend",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        started = time.perf_counter()
        self.loop.run_until_complete(self.app(scope, receive, send))
        elapsed = time.perf_counter() - started
        assert sent[0]["status"] in (200, 409), sent  # 409: its streamer ended it meanwhile
        return elapsed


def _latencies(name: str, phase: str, times: list[float]) -> dict[str, Any]:
    ordered = sorted(times[1:])
    return {
        "world": name.split(" · ")[0],
        "rotation": name.split(" · ")[1],
        "phase": phase,
        "requests": len(times),
        "first_ms": round(times[0] * 1000, 3),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def idle_worlds() -> dict[str, Any]:
    """The worlds measured after idle, by name."""
    from ircli.sandbox import WorldConfig

    return {
        "live-flood": WorldConfig(bot_rate=20.0),
        # quiet for a minute, then the swarm: after the jump it has run for nine minutes
        "live-flood --attack-start 60": WorldConfig(bot_rate=20.0, attack_start_seconds=60.0),
    }


def measure_in_process(jump: float, requests: int) -> list[dict[str, Any]]:
    """Fresh, then after ``jump`` seconds of the injected clock, for each world and rotation."""
    rows = []
    for world, config in idle_worlds().items():
        for walking in (False, True):
            name = f"{world} · {'walk (before)' if walking else 'rotation'}"
            sandbox = _InProcess(config, walking)
            ids = sandbox.live_streams(11 + requests)
            for ident in ids[:10]:  # warm-up
                sandbox.suspend(ident)
            fresh = [sandbox.suspend(i) for i in ids[10:-1]]
            rows.append(_latencies(name, "fresh", fresh))
            sandbox.now += jump
            later = [sandbox.suspend(ids[-1])]  # catches up with the idle time
            later += [sandbox.suspend(i) for i in sandbox.live_streams(requests - 1)]
            rows.append(_latencies(name, f"after {jump:g} s idle", later))
            print(f"  {name:45} {rows[-2]['median_ms']:>8.3f} ms → {rows[-1]['median_ms']:.3f} ms")
    return rows


def measure_over_http(idle: float, requests: int) -> list[dict[str, Any]]:
    """The default world over loopback HTTP: fresh, then after ``idle`` seconds of real time."""
    import httpx

    rows = []
    with server_process("sandbox") as port:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as c:
            malicious = c.get("/_sandbox/truth").json()["malicious_live_stream_ids"]
            listed = c.get("/api/v1/streams", params={"status": "live", "limit": 1000}).json()
            honest = [s["id"] for s in listed["items"] if s["id"] not in set(malicious)]
            ids = [s for pair in zip(honest, malicious, strict=False) for s in pair]

            def suspend(ident: str) -> float:
                started = time.perf_counter()
                c.post(f"/api/v1/streams/{ident}/suspend").raise_for_status()
                return time.perf_counter() - started

            fresh = [suspend(i) for i in ids[:requests]]
            rows.append(_latencies("live-flood · rotation (HTTP)", "fresh", fresh))
            print(f"  waiting {idle:g} s of real time…", flush=True)
            time.sleep(idle)
            later = [suspend(i) for i in ids[requests : 2 * requests]]
            rows.append(_latencies("live-flood · rotation (HTTP)", f"after {idle:g} s idle", later))
    return rows


def after_idle(args: argparse.Namespace) -> None:
    """The ``--after-idle`` benchmark: print the table, write the JSON."""
    rows = measure_in_process(args.jump, args.requests)
    if args.idle:
        rows += measure_over_http(args.idle, args.requests)
    print()
    print(
        f"{'world':29} {'rotation':14} {'phase':18} {'first ms':>9} {'median ms':>10} "
        f"{'p95 ms':>8} {'max ms':>8}"
    )
    for row in rows:
        print(
            f"{row['world']:29} {row['rotation']:14} {row['phase']:18} {row['first_ms']:>9.3f} "
            f"{row['median_ms']:>10.3f} {row['p95_ms']:>8.3f} {row['max_ms']:>8.3f}"
        )
    write_results(
        IDLE_RESULTS,
        {
            "benchmark": "sandbox-idle",
            "jump_s": args.jump,
            "idle_s": args.idle,
            "requests": args.requests,
            "step_s": STEP,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "results": rows,
        },
    )


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write a benchmark's JSON document and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measured run")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per cell (median)")
    parser.add_argument("--client", choices=("auto", "wrk", "raw"), default="auto")
    parser.add_argument(
        "--after-idle", action="store_true", help="measure request latency after idle time"
    )
    parser.add_argument("--jump", type=float, default=600.0, help="injected-clock idle seconds")
    parser.add_argument("--requests", type=int, default=200, help="requests measured per phase")
    parser.add_argument(
        "--idle", type=float, default=0.0, help="also over HTTP after this real wait (s)"
    )
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, port = args.serve
        (serve_sandbox if kind == "sandbox" else serve_baseline)(int(port))
        return
    if args.after_idle or args.idle:
        sys.path.insert(0, str(ROOT))
        after_idle(args)
        return
    client = args.client
    if client == "auto":
        client = "wrk" if ensure_wrk() else "raw"
    elif client == "wrk" and not ensure_wrk():
        sys.exit("wrk is not installed and could not be installed.")
    load = run_wrk if client == "wrk" else run_raw
    if client == "raw":
        _pin(1)
    rows = []
    for server in ("starlette-baseline", "sandbox"):
        with server_process("sandbox" if server == "sandbox" else "baseline") as port:
            for name, batch in ENDPOINTS:
                load(port, batch, 1.0)  # warm-up: connections, caches, first pass of ids
                runs = [load(port, batch, args.duration) for _ in range(args.repeat)]
                rates = [r["req_per_s"] for r in runs]
                median = statistics.median(rates)
                rows.append(
                    {
                        "server": server,
                        "endpoint": name if batch == 1 else f"batch of {batch}",
                        "batch": batch,
                        "req_per_s": round(median, 1),
                        "ids_per_s": round(median * batch, 1),
                        "runs_req_per_s": [round(r, 1) for r in rates],
                        "non_2xx": int(sum(r["non_2xx"] for r in runs)),
                    }
                )
                print(f"  {server:20} {rows[-1]['endpoint']:12} {median:>10,.0f} req/s", flush=True)
    baseline = {r["batch"]: r["req_per_s"] for r in rows if r["server"] == "starlette-baseline"}
    for row in rows:
        row["ratio_to_baseline"] = round(row["req_per_s"] / baseline[row["batch"]], 3)
    print()
    print(f"{'server':20} {'endpoint':12} {'req/s':>10} {'ids/s':>12} {'vs baseline':>12} non-2xx")
    for row in rows:
        print(
            f"{row['server']:20} {row['endpoint']:12} {row['req_per_s']:>10,.0f} "
            f"{row['ids_per_s']:>12,.0f} {row['ratio_to_baseline']:>11.2f}x {row['non_2xx']}"
        )
    document = {
        "benchmark": "sandbox",
        "client": client,
        "connections": CONNECTIONS,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pinning": "server on CPU 0, load generator on CPU 1",
        "results": rows,
    }
    write_results(RESULTS, document)


if __name__ == "__main__":
    main()
