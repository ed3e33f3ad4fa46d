"""HTTP ingest: messages accepted per second by ``hookwire serve`` (~1 KB payload, one endpoint,
worker off so that only accepting is measured: authenticate, validate, persist the message and
its delivery durably, answer 202), against a bare uvicorn app answering 202 on the same
machine, driven by the same client in the same run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping

import aiohttp
import orjson

from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import EVENT_TYPE, PAYLOAD
from hookwire.benchmarks.processes import free_port, stop, wait_for_port
from hookwire.benchmarks.runner import Result, Samples, Table, number, runs_text

NAME = "ingest"
BARE = "bare uvicorn answering 202"
ADMIN_KEY = "hwk_bench-admin-key"
BODY = orjson.dumps({"eventType": EVENT_TYPE, "payload": PAYLOAD})


async def load(url: str, headers: Mapping[str, str], seconds: float, connections: int) -> float:
    """Requests/s answered 2xx by ``url`` under ``connections`` concurrent keep-alive clients."""
    headers = {**headers, "content-type": "application/json"}
    done = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    if response.status >= 300:
                        raise RuntimeError(f"{response.status}: {await response.text()}")
                    done += 1

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(connections)))
        return done / (time.perf_counter() - started)


def _server(command: list[str], env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command`` with a free port appended; returns the process and the port."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, port


async def measure_hookwire(database_url: str, seconds: float, connections: int) -> float:
    command = [sys.executable, "-m", "hookwire", "serve", "--no-worker", "--database-url", database_url]
    command += ["--log-level", "warning", "--port"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")} | {
        "HOOKWIRE_ADMIN_KEY": ADMIN_KEY
    }
    server, port = _server(command, env)
    try:
        await asyncio.to_thread(wait_for_port, port, timeout=60)
        base = f"http://127.0.0.1:{port}/api/v1"
        auth = {"authorization": f"Bearer {ADMIN_KEY}"}
        async with aiohttp.ClientSession(headers=auth, raise_for_status=True) as session:
            await (await session.post(f"{base}/app", json={"name": "bench", "uid": "bench"})).read()
            endpoint = {"url": "https://example.com/hooks"}  # never called: the worker is off
            await (await session.post(f"{base}/app/bench/endpoint", json=endpoint)).read()
        return await load(f"{base}/app/bench/msg", auth, seconds, connections)
    finally:
        await asyncio.to_thread(stop, [server], timeout=30)


async def measure_bare(seconds: float, connections: int) -> float:
    server, port = _server([sys.executable, "-m", "hookwire.benchmarks.bare_app"])
    try:
        await asyncio.to_thread(wait_for_port, port, timeout=60)
        return await load(f"http://127.0.0.1:{port}/api/v1/app/bench/msg", {}, seconds, connections)
    finally:
        await asyncio.to_thread(stop, [server], timeout=30)


async def measure(env: BenchEnvironment) -> Result:
    options = env.options
    samples = Samples()
    for _ in range(options.runs):  # interleaved, so that noise hits every contender alike
        samples.add(BARE, await measure_bare(options.seconds, options.connections))
        for backend in env.backends():
            database = env.database_url(backend, f"ingest {backend}")
            rate = await measure_hookwire(database, options.seconds, options.connections)
            samples.add(f"hookwire serve, {backend}", rate)
            env.discard(database)
    bare = samples.median(BARE)
    rows = [
        (name, number(samples.median(name)), number(samples.median(name) / bare, 2), runs_text(values))
        for name, values in samples.runs.items()
    ]
    title = (
        f"HTTP ingest: ~1 KB messages, {options.connections} connections, median of {options.runs} "
        f"interleaved runs of {options.seconds:g} s"
    )
    table = Table(title, ("server", "requests/s", "ratio to bare", "runs"), rows)
    data = {
        name: {"median": samples.median(name), "runs": values, "ratio_to_bare": samples.median(name) / bare}
        for name, values in samples.runs.items()
    }
    return Result(
        NAME,
        tables=[table],
        data={"contenders": data, "connections": options.connections, "seconds": options.seconds},
    )
