"""Backlog: what a growing pile of pending deliveries costs the worker.

For each database and each backlog size (10 k, 100 k, 1 M pending deliveries to 10 endpoints by
default), the backlog is bulk-loaded (see ``backlog_load``), then:

- **claim time**: the store's ``claim_due`` with the worker's arguments (a batch of 128, at most
  32 per endpoint), called many times through the same ``Store`` the worker uses (on SQLite
  that includes the writer thread and the commit's fsync); each claim is released again
  (untimed), so every call faces the same backlog. After a few calls to warm caches, the
  sizes take turns call by call, so that other work on the machine falls on every size
  alike. Before the first call the loaded files are flushed to disk (``sync``):
  otherwise the system's write-back of the load lands on the fsyncs of whichever size is
  timed first. The median is quoted;
- **worker memory**: a ``hookwire worker`` process drains a fixed number of deliveries from
  the front to the fast receiver while its resident memory is sampled every 50 ms;
- **the claim's query plan**, as the database would run it against this backlog.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hookwire import Webhooks
from hookwire.benchmarks import backlog_load
from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import bench_settings
from hookwire.benchmarks.processes import RssSampler, start_workers, stop
from hookwire.benchmarks.runner import Result, Table, number, percentile
from hookwire.core.clock import to_ms, utcnow
from hookwire.store.base import Store
from hookwire.store.factory import open_store

NAME = "backlog"
ENDPOINTS = 10
CLAIMS = 120
WARM_UP = 5
CLAIM_LIMIT = 128  # Settings.claim_batch
PER_ENDPOINT = 32  # the worker's held cap: twice Settings.endpoint_concurrency
WORKER_CONCURRENCY = 128  # the library's default


async def _prepare(env: BenchEnvironment, database: str, backend: str, size: int) -> float:
    """Endpoints through the facade, then the backlog bulk-loaded; returns the load's seconds."""
    async with Webhooks(database, settings=bench_settings(), worker=False) as hooks:
        app = await hooks.apps.get("default")
        endpoint_ids = [
            (await hooks.endpoints.create("default", f"{env.receiver_url}backlog/{i}")).id
            for i in range(ENDPOINTS)
        ]
    started = time.perf_counter()
    if backend == "sqlite":
        await asyncio.to_thread(
            backlog_load.load_sqlite, database.removeprefix("sqlite:///"), app.id, endpoint_ids, size
        )
    else:
        await asyncio.to_thread(backlog_load.load_postgres, database, app.id, endpoint_ids, size)
    return time.perf_counter() - started


async def _claims(store: Store, count: int) -> list[float]:
    """Milliseconds of each of ``count`` ``claim_due`` calls, each claim released untimed."""
    times = []
    for _ in range(count):
        now = utcnow()
        started = time.perf_counter()
        claims = await store.claim_due(
            now=now,
            lease_until=now + timedelta(seconds=90),
            limit=CLAIM_LIMIT,
            per_endpoint=PER_ENDPOINT,
            room={},
        )
        times.append((time.perf_counter() - started) * 1000)
        if len(claims) < CLAIM_LIMIT:
            raise RuntimeError(f"claimed {len(claims)} of a backlog, expected {CLAIM_LIMIT}")
        await store.release(claims, now=utcnow())
    return times


async def _claim_times(databases: Sequence[str], claims: int) -> list[list[float]]:
    """Claim times per database, one claim per database in turn, so that other work on the
    machine falls on every backlog size alike. (In turns of twenty claims, the medians of one
    size's turns differed by up to a fifth: a shared machine's speed moves within seconds.)"""
    stores = [open_store(database) for database in databases]
    times: list[list[float]] = [[] for _ in databases]
    try:
        for store in stores:
            await _claims(store, WARM_UP)  # caches and connections, not what is measured
        for _ in range(claims):
            for store, found in zip(stores, times, strict=True):
                found.extend(await _claims(store, 1))
    finally:
        for store in stores:
            await store.close()
    return times


async def _drain(env: BenchEnvironment, database: str) -> dict[str, float]:
    """Peak and final RSS (MB) of a worker process draining ``backlog_drain`` deliveries."""
    target = env.options.backlog_drain
    await env.receiver.reset()
    [worker] = start_workers(database, 1, concurrency=WORKER_CONCURRENCY)
    sampler = RssSampler(worker.pid)
    sampler.start()
    try:
        timeout = 120 + target / 100
        await env.receiver.wait_for(1, timeout=timeout, interval=0.005)
        first_at = time.monotonic()
        received = await env.receiver.wait_for(target, timeout=timeout)
        finished_at = time.monotonic()
        final = sampler.samples[-1] if sampler.samples else 0
    finally:
        await sampler.stop()
        await asyncio.to_thread(stop, [worker])
    if received < target:
        raise RuntimeError(f"the worker drained {received} of {target} deliveries in time")
    seconds = finished_at - first_at
    return {
        "rss_peak_mb": sampler.peak / 2**20,
        "rss_final_mb": final / 2**20,
        "drain_per_s": received / seconds if seconds > 0 else float("nan"),
    }


def _plan(backend: str, database: str, now_ms: int) -> str:
    try:
        if backend == "sqlite":
            path = database.removeprefix("sqlite:///")
            return backlog_load.plan_sqlite(path, CLAIM_LIMIT, PER_ENDPOINT, now_ms)
        return backlog_load.plan_postgres(database, CLAIM_LIMIT, PER_ENDPOINT, now_ms)
    except Exception as exc:  # the plan is context; a changed query must not lose the figures
        return f"(no plan: {type(exc).__name__}: {exc})"


async def _backend(env: BenchEnvironment, backend: str) -> list[dict[str, Any]]:
    """Every backlog size of one database: all loaded first, claims timed in turns, then each
    drained by a worker process."""
    sizes = env.options.backlog_sizes
    databases = [env.database_url(backend, f"backlog {backend} {size}") for size in sizes]
    try:
        loads = [
            await _prepare(env, database, backend, size)
            for database, size in zip(databases, sizes, strict=True)
        ]
        planned_at = to_ms(utcnow())  # one moment for every size, so that plans compare as text
        plans = [await asyncio.to_thread(_plan, backend, database, planned_at) for database in databases]
        await asyncio.to_thread(os.sync)  # the load's write-back, before anything is timed
        times = await _claim_times(databases, CLAIMS)
        drains = [await _drain(env, database) for database in databases]
    finally:
        for database in databases:
            env.discard(database)
    return [
        {
            "backend": backend,
            "size": size,
            "load_seconds": load,
            "claim_ms": statistics.median(found),
            "claim_p90_ms": percentile(found, 0.9),
            "claim_runs_ms": found,
            "plan": plan,
            **drained,
        }
        for size, load, plan, found, drained in zip(sizes, loads, plans, times, drains, strict=True)
    ]


async def measure(env: BenchEnvironment) -> Result:
    points = [point for backend in env.backends() for point in await _backend(env, backend)]
    return _result(env, points)


def _result(env: BenchEnvironment, points: list[dict[str, Any]]) -> Result:
    rows = []
    result = Result(NAME, data={"points": points, "drain": env.options.backlog_drain, "claims": CLAIMS})
    for backend in env.backends():
        mine = [p for p in points if p["backend"] == backend]
        base = mine[0]
        for p in mine:
            rows.append(
                (
                    backend,
                    number(p["size"]),
                    number(p["load_seconds"], 1),
                    number(p["claim_ms"], 2),
                    number(p["claim_p90_ms"], 2),
                    number(p["claim_ms"] / base["claim_ms"], 2),
                    number(p["rss_peak_mb"], 1),
                    number(p["rss_peak_mb"] / base["rss_peak_mb"], 2),
                    number(p["drain_per_s"]),
                )
            )
        if all(p["plan"] == mine[-1]["plan"] for p in mine):
            result.blocks.append(
                (f"Query plan of claim_due on {backend} (the same at every size)", mine[-1]["plan"])
            )
        else:  # the planner changed its mind as the table grew: show where it started and ended
            for p in (mine[0], mine[-1]):
                result.blocks.append(
                    (f"Query plan of claim_due on {backend}, {p['size']:,} pending", p["plan"])
                )
    title = (
        f"Backlog: claim_due ({CLAIM_LIMIT} per claim, median of {CLAIMS}) and a worker process's memory "
        f"while draining {env.options.backlog_drain:,} deliveries from the front"
    )
    columns = (
        "database",
        "pending",
        "load s",
        "claim ms",
        "claim p90 ms",
        "ratio to smallest",
        "worker peak RSS MB",
        "ratio to smallest",
        "drain events/s",
    )
    result.tables.append(Table(title, columns, rows))
    return result
