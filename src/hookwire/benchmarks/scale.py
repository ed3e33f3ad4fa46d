"""Scale-out: delivered events/s with 1, 2 and 4 ``hookwire worker`` processes on PostgreSQL
(beside one on SQLite), how busy the machine's cores were meanwhile, and the latency from
commit to arrival at a steady rate with the worker in another process (woken by
``LISTEN/NOTIFY``, so no polling delay).

Messages (~1 KB, to 10 endpoints) are stored first, then drained; the rate counts from the
receiver's first arrival to the last, so process start-up is not counted. Over the same
window the machine's busy CPU time is read from ``/proc/stat``: the workers, the database and
the receiver share the cores, so the cores busy and the CPU per event say whether more workers
could add anything here. On PostgreSQL the tables are analyzed after loading, as autovacuum
would soon do (see ``analyze_postgres``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from hookwire import Webhooks
from hookwire.benchmarks import machine
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


@dataclass(frozen=True, slots=True)
class Drain:
    """A drain's events/s and the machine's busy cores meanwhile (NaN where unknown)."""

    rate: float
    cores_busy: float


async def drain_rate(env: BenchEnvironment, database: str, workers: int) -> Drain:
    """Events/s from the first arrival to the last, ``workers`` processes draining."""
    messages = env.options.messages
    await _preload(env, database, messages)
    await env.receiver.reset()
    processes = start_workers(database, workers, concurrency=WORKER_CONCURRENCY)
    try:
        timeout = 120 + messages / 100
        first = await env.receiver.wait_for(1, timeout=timeout)
        started, busy_before = time.perf_counter(), machine.busy_cpu_seconds()
        received = await env.receiver.wait_for(messages, timeout=timeout)
        elapsed, busy_after = time.perf_counter() - started, machine.busy_cpu_seconds()
        if received < messages:
            raise RuntimeError(f"{workers} workers delivered {received} of {messages} in time")
        cores_busy = float("nan")
        if busy_before is not None and busy_after is not None:
            cores_busy = (busy_after - busy_before) / elapsed
        return Drain((received - first) / elapsed, cores_busy)
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


def _ratio(value: float, of: float) -> float:
    # A drain of a handful of messages can end between two looks at the receiver: no rate.
    return value / of if of else float("nan")


async def measure(env: BenchEnvironment) -> Result:
    backends = env.backends()
    samples, cores = Samples(), Samples()

    async def measure_drain(name: str, backend: str, workers: int) -> None:
        database = env.database_url(backend, f"scale {workers}")
        drain = await drain_rate(env, database, workers)
        samples.add(name, drain.rate)
        cores.add(name, drain.cores_busy)
        env.discard(database)

    for _ in range(env.options.runs):  # interleaved, so that noise hits every contender alike
        if "sqlite" in backends:
            await measure_drain("SQLite, 1 worker", "sqlite", 1)
        if "postgres" in backends:
            for workers in WORKER_COUNTS:
                await measure_drain(f"PostgreSQL, {workers} worker{'s' * (workers > 1)}", "postgres", workers)
    contenders = samples.summary()
    for name, busy in cores.summary().items():
        contenders[name]["cores_busy"] = busy
    result = Result(NAME, data={"messages": env.options.messages, "contenders": contenders})
    one = samples.median("PostgreSQL, 1 worker") if "PostgreSQL, 1 worker" in samples else float("nan")
    rows = [
        (
            name,
            number(samples.median(name)),
            runs_text(values),
            number(_ratio(samples.median(name), one), 2),
            number(cores.median(name), 2),
            number(_ratio(cores.median(name) * 1e6, samples.median(name))),
        )
        for name, values in samples.runs.items()
    ]
    title = (
        f"Scale-out: {env.options.messages:,} messages of ~1 KB to {ENDPOINTS} endpoints, drained by worker "
        f"processes (concurrency {WORKER_CONCURRENCY}), median of {env.options.runs} interleaved runs"
    )
    columns: tuple[str, ...] = ("workers", "events/s", "runs", "ratio to one PostgreSQL worker")
    columns += ("cores busy", "CPU µs per event")
    result.tables.append(Table(title, columns, rows))
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
