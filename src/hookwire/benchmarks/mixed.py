"""Mixed fleet: 20 endpoints, 80 % healthy, 10 % slow (the receiver answers after 1 s), 10 %
failing (``500``), messages spread round-robin over them at a steady offered rate.

The load is open-loop (each ``trigger()`` starts at its scheduled time, whether or not earlier
ones have returned), so a stall shows up as latency instead of hiding as a slower sender. The
healthy endpoints' trigger -> arrival latency (``time.monotonic()`` before ``trigger()`` is
called, to the receiver process reading the request) is measured twice, with the same healthy
traffic both times: with the slow and failing endpoints present, and without them.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from hookwire import Webhooks
from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import PAYLOAD, bench_settings
from hookwire.benchmarks.processes import ReceiverClient
from hookwire.benchmarks.runner import Result, Table, number, percentile
from hookwire.core.errors import HookwireError

NAME = "mixed"
ENDPOINTS = 20
HEALTHY = 16  # endpoints 0-15; 16-17 are slow, 18-19 fail
FLEETS = ("healthy only", "with slow and failing")
#: How long to wait for the last healthy arrivals after the last trigger.
SETTLE_SECONDS = 10.0


def _path(index: int) -> str:
    kind = "ok" if index < HEALTHY else "slow" if index < HEALTHY + 2 else "fail"
    return f"{kind}/{index}"


async def _offer(hooks: Webhooks, rate: int, seconds: float, with_bad: bool) -> tuple[dict[str, float], int]:
    """Trigger on schedule; returns ``{message id: trigger time}`` of healthy-endpoint messages,
    and how many ``trigger()`` calls failed (past its capacity a database refuses some)."""
    sent: dict[str, float] = {}
    failed = 0

    async def trigger(index: int) -> None:
        nonlocal failed
        started = time.monotonic()
        try:
            message = await hooks.trigger(f"mixed.{index}", PAYLOAD)
        except HookwireError:
            failed += 1
            return
        if index < HEALTHY:
            sent[message.id] = started

    tasks = []
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        index = n % ENDPOINTS
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if index < HEALTHY or with_bad:
            tasks.append(asyncio.create_task(trigger(index)))
    await asyncio.gather(*tasks)
    return sent, failed


async def _arrivals(receiver: ReceiverClient, expected: set[str]) -> dict[str, float]:
    """First arrival time of each expected message, waiting at most ``SETTLE_SECONDS``."""
    arrived: dict[str, float] = {}
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        for at, _, webhook_id in await receiver.arrivals():
            if webhook_id in expected:
                arrived.setdefault(webhook_id, at)
        if len(arrived) >= len(expected) or time.monotonic() > deadline:
            return arrived
        await asyncio.sleep(0.05)


async def _one(env: BenchEnvironment, backend: str, rate: int, with_bad: bool) -> dict[str, float]:
    database = env.database_url(backend, f"mixed {backend} {rate}")
    hooks = await Webhooks(database, settings=bench_settings()).open()
    try:
        endpoints = range(ENDPOINTS) if with_bad else range(HEALTHY)
        for i in endpoints:
            await hooks.endpoints.create(
                "default", f"{env.receiver_url}{_path(i)}", filter_types=[f"mixed.{i}"]
            )
        await env.receiver.reset()
        sent, failed = await _offer(hooks, rate, env.options.seconds, with_bad)
        arrived = await _arrivals(env.receiver, set(sent))
    finally:
        await hooks.close(grace=1.5)  # the slow endpoints' requests in flight answer within 1 s
        env.discard(database)
    latencies = [(arrived[m] - t) * 1000 for m, t in sent.items() if m in arrived]
    return {
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "sent": len(sent),
        "missing": len(sent) - len(latencies),
        "failed_triggers": failed,
    }


async def measure(env: BenchEnvironment) -> Result:
    options = env.options
    found: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    for _ in range(options.runs):  # interleaved: every rate and fleet once, then again
        for backend in env.backends():
            for rate in options.rates:
                for fleet in FLEETS:
                    sample = await _one(env, backend, rate, fleet != FLEETS[0])
                    found.setdefault((backend, rate, fleet), []).append(sample)
    return _result(env, found)


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def _row(
    backend: str, rate: int, good: list[dict[str, float]], mixed: list[dict[str, float]]
) -> tuple[str, ...]:
    figures = [number(_median(s, key), 1) for s in (good, mixed) for key in ("p50", "p99")]
    ratio = number(_median(mixed, "p99") / _median(good, "p99"), 2)
    missing = sum(int(s["missing"]) for s in good + mixed)
    failed = sum(int(s["failed_triggers"]) for s in good + mixed)
    return (backend, number(rate), *figures, ratio, str(missing), str(failed))


def _entry(backend: str, rate: int, fleet: str, samples: list[dict[str, float]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"backend": backend, "rate": rate, "fleet": fleet, "runs": samples}
    entry |= {key: _median(samples, key) for key in ("p50", "p99", "max")}
    entry |= {key: sum(int(s[key]) for s in samples) for key in ("missing", "failed_triggers")}
    return entry


def _result(env: BenchEnvironment, found: dict[tuple[str, int, str], list[dict[str, float]]]) -> Result:
    rows, points = [], []
    for backend in env.backends():
        for rate in env.options.rates:
            good, mixed = found[(backend, rate, FLEETS[0])], found[(backend, rate, FLEETS[1])]
            rows.append(_row(backend, rate, good, mixed))
            points += [_entry(backend, rate, FLEETS[0], good), _entry(backend, rate, FLEETS[1], mixed)]
    title = (
        f"Mixed fleet: healthy endpoints' trigger -> arrival latency (ms), {env.options.seconds:g} s per "
        f"rate, median of {env.options.runs} runs"
    )
    columns: tuple[str, ...] = ("database", "offered msg/s", "healthy only p50", "p99", "with bad p50", "p99")
    columns += ("p99 ratio", "missing", "failed triggers")
    note = (
        f"{ENDPOINTS} endpoints: {HEALTHY} healthy, 2 answering after 1 s, 2 answering 500; 'healthy only' "
        "sends the same healthy traffic without the bad endpoints (so 80 % of the offered rate). "
        f"Missing: healthy messages not arrived {SETTLE_SECONDS:g} s after the last trigger; failed "
        "triggers: trigger() calls that raised (all runs, both fleets)."
    )
    table = Table(title, columns, rows, note)
    return Result(NAME, tables=[table], data={"points": points, "seconds": env.options.seconds})
