"""One HTTP client library in a bare loop: N single-target suspends against the sandbox.

The transports ircli could stand on, measured without ircli around them (no audit, no
executor): what each library costs per request on one core. bench/executor.py runs this
pinned to the client CPU, next to ircli's own rows, and reads the JSON line it prints.

    python bench/clients.py URL TOKEN --client httpx|httpx-aiohttp|aiohttp [--ids N]
        [--concurrency 64]

Every client keeps ``concurrency`` keep-alive connections, sends the same bytes ircli sends
(``POST /api/v1/streams/ID/suspend`` with a bearer token) and reads each answer whole. The
event loop is uvloop when installed, as for ircli.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

Send = Callable[[str], Awaitable[int]]


async def _loop(send: Send, ids: list[str], concurrency: int) -> float:
    queue = iter(ids)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        for target in queue:
            status = await send(target)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if statuses.get(200, 0) != len(ids):
        raise SystemExit(f"unexpected answers: {statuses}")
    return elapsed


async def measure(client: str, url: str, token: str, ids: list[str], concurrency: int) -> float:
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    if client == "aiohttp":
        import aiohttp
        import yarl

        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("Accept-Encoding",),
        ) as session:

            async def send_aiohttp(target: str) -> int:
                address = yarl.URL(f"{url}/api/v1/streams/{target}/suspend", encoded=True)
                async with session.post(address, headers=headers, data=b"") as response:
                    await response.read()
                    return response.status

            return await _loop(send_aiohttp, ids, concurrency)

    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport: httpx.AsyncBaseTransport
    if client == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits)
    async with httpx.AsyncClient(transport=transport, headers=headers, base_url=url) as http:

        async def send_httpx(target: str) -> int:
            response = await http.post(f"/api/v1/streams/{target}/suspend", content=b"")
            return response.status_code

        return await _loop(send_httpx, ids, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--client", choices=("httpx", "httpx-aiohttp", "aiohttp"), required=True)
    parser.add_argument("--ids", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    ids = [f"str_{k:07d}" for k in range(args.ids)]
    coroutine = measure(args.client, args.url, args.token, ids, args.concurrency)
    try:
        import uvloop
    except ImportError:
        elapsed = asyncio.run(coroutine)
    else:
        elapsed = uvloop.run(coroutine)
    print(json.dumps({"client": args.client, "targets": len(ids), "wall_s": elapsed}))


if __name__ == "__main__":
    main()
