"""HTTP ingest: messages accepted per second by ``hookwire serve`` (~1 KB payload, one endpoint,
worker off so that only accepting is measured: authenticate, validate, persist the message and
its delivery durably, answer 202), against a bare uvicorn app answering 202 on the same
machine, driven by the same client in the same run.

Then a sweep of concurrent clients (ingest against load): the bare app and hookwire on the
first database, at each level of ``ingest_sweep``. Each client waits for its answer before
sending again, so with few clients the figure is set by how long a message takes to be
accepted (its share of a group commit), with many by the work per message."""

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


async def _hookwire(env: BenchEnvironment, backend: str, connections: int) -> float:
    database = env.database_url(backend, f"ingest {backend} {connections}")
    try:
        return await measure_hookwire(database, env.options.seconds, connections)
    finally:
        env.discard(database)


async def _sweep(env: BenchEnvironment) -> tuple[Samples, Samples]:
    backend = env.backends()[0]
    bare, hookwire = Samples(), Samples()
    for _ in range(env.options.runs):
        for level in env.options.ingest_sweep:
            bare.add(str(level), await measure_bare(env.options.seconds, level))
            hookwire.add(str(level), await _hookwire(env, backend, level))
    return bare, hookwire


def _sweep_table(env: BenchEnvironment, bare: Samples, hookwire: Samples) -> tuple[Table, dict[str, object]]:
    rows = [
        (
            level,
            number(bare.median(level)),
            number(hookwire.median(level)),
            number(hookwire.median(level) / bare.median(level), 2),
        )
        for level in bare.runs
    ]
    backend = env.backends()[0]
    title = f"HTTP ingest against load: concurrent clients, hookwire serve on {backend}"
    columns = ("clients", "bare uvicorn requests/s", "hookwire requests/s", "ratio")
    data: dict[str, object] = {"backend": backend, "bare": bare.summary(), "hookwire": hookwire.summary()}
    return Table(title, columns, rows), data


async def measure(env: BenchEnvironment) -> Result:
    options = env.options
    samples = Samples()
    for _ in range(options.runs):  # interleaved, so that noise hits every contender alike
        samples.add(BARE, await measure_bare(options.seconds, options.connections))
        for backend in env.backends():
            rate = await _hookwire(env, backend, options.connections)
            samples.add(f"hookwire serve, {backend}", rate)
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
    result = Result(
        NAME,
        tables=[table],
        data={"contenders": data, "connections": options.connections, "seconds": options.seconds},
    )
    if options.ingest_sweep:
        sweep_table, sweep_data = _sweep_table(env, *await _sweep(env))
        result.tables.append(sweep_table)
        result.data["sweep"] = sweep_data
    return result
