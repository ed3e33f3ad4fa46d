"""HTTP ingest: messages accepted per second by ``hookwire serve`` (1 KB payload, 1 endpoint,
SQLite, worker off so that only accepting is measured), against a bare uvicorn app answering
202 on the same machine, driven by the same client in the same run.

Run: ``python -m bench.ingest [--seconds 10] [--connections 32] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from bench.throughput import PAYLOAD

ADMIN_KEY = "hwk_bench-admin-key"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    """Requests/s answered 2xx by ``url`` under ``connections`` concurrent keep-alive clients."""
    body = json.dumps({"eventType": "invoice.paid", "payload": PAYLOAD}).encode()
    headers = {**headers, "content-type": "application/json"}
    done = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status >= 300:
                        raise RuntimeError(f"{response.status}: {await response.text()}")
                    done += 1

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(connections)))
        return done / (time.perf_counter() - started)


def measure_hookwire(folder: Path, seconds: float, connections: int) -> float:
    port = free_port()
    database_url = f"sqlite:///{folder / f'ingest-{port}.db'}"
    command = [sys.executable, "-m", "hookwire", "serve", "--no-worker", "--port", str(port)]
    command += ["--database-url", database_url, "--log-level", "warning"]
    env = {**os.environ, "HOOKWIRE_ADMIN_KEY": ADMIN_KEY}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/api/v1/health")
        auth = {"authorization": f"Bearer {ADMIN_KEY}"}
        httpx.post(
            f"{base}/api/v1/app", json={"name": "bench", "uid": "bench"}, headers=auth
        ).raise_for_status()
        endpoint = {"url": "https://example.com/hooks"}
        httpx.post(f"{base}/api/v1/app/bench/endpoint", json=endpoint, headers=auth).raise_for_status()
        return asyncio.run(load(f"{base}/api/v1/app/bench/msg", auth, seconds, connections))
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure_bare(seconds: float, connections: int) -> float:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.bare_app", str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        return asyncio.run(load(f"{base}/api/v1/app/bench/msg", {}, seconds, connections))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/results/ingest.json"))
    args = parser.parse_args()
    bare: list[float] = []
    hookwire: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):  # interleaved, so noise hits both alike
            bare.append(measure_bare(args.seconds, args.connections))
            hookwire.append(measure_hookwire(Path(folder), args.seconds, args.connections))
    ratio = statistics.median(hookwire) / statistics.median(bare)
    runs = f"median of {args.runs} runs of {args.seconds:g} s"
    bare_runs, hookwire_runs = [round(v) for v in bare], [round(v) for v in hookwire]
    print(f"\nHTTP ingest, ~1 KB messages, {args.connections} connections, {runs}")
    print(f"bare uvicorn answering 202   {statistics.median(bare):8.0f} req/s   runs {bare_runs}")
    print(f"hookwire serve (SQLite)      {statistics.median(hookwire):8.0f} msg/s   runs {hookwire_runs}")
    print(f"ratio                        {ratio:8.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"bare": bare, "hookwire": hookwire, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
