"""Scale-out: delivered events/s with 1, 2 and 4 ``hookwire worker`` processes on PostgreSQL
(beside one on SQLite), and the latency from commit to arrival at a steady rate with the
worker in another process (woken by ``LISTEN/NOTIFY``, so no polling delay).

Messages (~1 KB, to 10 endpoints) are stored first, then drained; the rate counts from the
receiver's first arrival to the last, so process start-up is not counted. On PostgreSQL the
tables are analyzed after loading, as autovacuum would soon do (see ``analyze_postgres``).
"""

from __future__ import annotations

import asyncio
import time

from hookwire import Webhooks
from hookwire.benchmarks.backlog_load import analyze_postgres
from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import PAYLOAD, PRODUCERS, bench_settings
from hookwire.benchmarks.processes import start_workers, stop
from hookwire.benchmarks.runner import Result, Samples, Table, number, percentile, runs_text

NAME = "scale"
ENDPOINTS = 10
WORKER_COUNTS = (1, 2, 4)
WORKER_CONCURRENCY = 64


async def _preload(env: BenchEnvironment, database: str, messages: int) -> None:
    async with Webhooks(database, settings=bench_settings(), worker=False) as hooks:
        for i in range(ENDPOINTS):
            url = f"{env.receiver_url}scale/{i}"
            await hooks.endpoints.create("default", url, filter_types=[f"bench.{i}"])
        numbers = iter(range(messages))

        async def lane() -> None:
            for n in numbers:
                await hooks.trigger(f"bench.{n % ENDPOINTS}", PAYLOAD)

        await asyncio.gather(*(lane() for _ in range(PRODUCERS)))
    if database.startswith("postgres"):
        await asyncio.to_thread(analyze_postgres, database)


async def drain_rate(env: BenchEnvironment, database: str, workers: int) -> float:
    """Events/s from the first arrival to the last, ``workers`` processes draining."""
    messages = env.options.messages
    await _preload(env, database, messages)
    await env.receiver.reset()
    processes = start_workers(database, workers, concurrency=WORKER_CONCURRENCY)
    try:
        timeout = 120 + messages / 100
        first = await env.receiver.wait_for(1, timeout=timeout)
        started = time.perf_counter()
        received = await env.receiver.wait_for(messages, timeout=timeout)
        if received < messages:
            raise RuntimeError(f"{workers} workers delivered {received} of {messages} in time")
        return (received - first) / (time.perf_counter() - started)
    finally:
        await asyncio.to_thread(stop, processes)


async def commit_to_arrival(env: BenchEnvironment, database: str) -> list[float]:
    """Milliseconds from ``trigger()`` returning (committed) to arrival, at ``scale_rate``/s."""
    rate, seconds = env.options.scale_rate, env.options.scale_seconds
    async with Webhooks(database, settings=bench_settings(), worker=False) as hooks:
        await hooks.add("latency.test", f"{env.receiver_url}latency")
        processes = start_workers(database, 1)
        try:
            await asyncio.sleep(2)  # let the worker start and go idle
            await env.receiver.reset()
            committed: dict[str, float] = {}
            for _ in range(int(rate * seconds)):
                tick = time.monotonic()
                message = await hooks.trigger("latency.test", PAYLOAD)
                committed[message.id] = time.monotonic()
                await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))
            arrived: dict[str, float] = {}
            deadline = time.monotonic() + 30
            while len(arrived) < len(committed) and time.monotonic() < deadline:
                for at, _, webhook_id in await env.receiver.arrivals():
                    arrived.setdefault(webhook_id, at)
                await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(stop, processes)
    return [(arrived[m] - t) * 1000 for m, t in committed.items() if m in arrived]


async def measure(env: BenchEnvironment) -> Result:
    backends = env.backends()
    samples = Samples()
    for _ in range(env.options.runs):  # interleaved, so that noise hits every contender alike
        if "sqlite" in backends:
            database = env.database_url("sqlite", "scale")
            samples.add("SQLite, 1 worker", await drain_rate(env, database, 1))
            env.discard(database)
        if "postgres" in backends:
            for workers in WORKER_COUNTS:
                database = env.database_url("postgres", f"scale {workers}")
                samples.add(
                    f"PostgreSQL, {workers} worker{'s' * (workers > 1)}",
                    await drain_rate(env, database, workers),
                )
                env.discard(database)
    result = Result(NAME, data={"messages": env.options.messages, "contenders": samples.summary()})
    one = samples.median("PostgreSQL, 1 worker") if "PostgreSQL, 1 worker" in samples else float("nan")
    rows = [
        (name, number(samples.median(name)), runs_text(values), number(samples.median(name) / one, 2))
        for name, values in samples.runs.items()
    ]
    title = (
        f"Scale-out: {env.options.messages:,} messages of ~1 KB to {ENDPOINTS} endpoints, drained by worker "
        f"processes (concurrency {WORKER_CONCURRENCY}), median of {env.options.runs} interleaved runs"
    )
    result.tables.append(
        Table(title, ("workers", "events/s", "runs", "ratio to one PostgreSQL worker"), rows)
    )
    if "postgres" in backends:
        latencies = await commit_to_arrival(env, env.database_url("postgres", "latency"))
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        result.data["latency"] = {
            "rate": env.options.scale_rate,
            "p50_ms": p50,
            "p99_ms": p99,
            "samples": len(latencies),
        }
        result.notes.append(
            f"Commit -> arrival at {env.options.scale_rate}/s, worker in another process (LISTEN/NOTIFY "
            f"wake-ups; poll interval 1,000 ms): p50 {p50:.1f} ms, p99 {p99:.1f} ms over "
            f"{len(latencies):,} messages."
        )
    return result
