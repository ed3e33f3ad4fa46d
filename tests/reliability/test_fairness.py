"""Endpoints that misbehave beside healthy ones: 1,000 that never answer, and one that answers
slowly with a deep backlog. The healthy ones keep being served within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import time

import pytest

from hookwire import Webhooks
from hookwire.testing import Receiver, Reply
from tests.reliability.conftest import loopback_settings
from tests.reliability.servers import RawServer, hang

HANGING = 1000
HEALTHY = 100
ROUNDS = 10
ROUND_INTERVAL = 1.0
P99_LIMIT = 5.0


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_healthy_endpoints_are_not_starved_by_hanging_ones(database_url: str) -> None:
    _enough_file_descriptors(8 * (HANGING + HEALTHY))
    # A hanging request holds its connection for five seconds before it times out.
    hooks = await Webhooks(database_url, settings=loopback_settings(request_timeout=5.0)).open()
    try:
        async with RawServer(hang()) as hanging, Receiver() as healthy:
            # The hanging endpoints are registered first, so each message's deliveries to them
            # come first in due order: the worst case for the healthy ones.
            await _register(hooks, [f"{hanging.url}h{i}" for i in range(HANGING)])
            await _register(hooks, [f"{healthy.url}ok{i}" for i in range(HEALTHY)])
            sent_at = await _send_rounds(hooks)
            with contextlib.suppress(TimeoutError):  # the p99 assertion reports what is missing
                await healthy.wait_for(ROUNDS * HEALTHY, timeout=20)
    finally:
        await hooks.close(grace=0.1)  # requests still hanging are abandoned, not waited for

    expected = ROUNDS * HEALTHY
    latencies = sorted(r.received_at - sent_at[r.webhook_id] for r in healthy.requests)
    arrived = len(latencies)
    # Missing deliveries count as infinitely late.
    latencies += [float("inf")] * (expected - len(latencies))
    p99 = latencies[int(0.99 * expected) - 1]
    print(
        f"\n{HANGING} hanging + {HEALTHY} healthy endpoints, {ROUNDS} messages to all, 1 per second: "
        f"{arrived}/{expected} healthy deliveries arrived, p50 {statistics.median(latencies):.2f} s, "
        f"p99 {p99:.2f} s, max {latencies[-1]:.2f} s; "
        f"{hanging.connections} connections to the hanging server, at most "
        f"{hanging.most_open_connections} open at once"
    )
    assert p99 < P99_LIMIT


def _enough_file_descriptors(needed: int) -> None:
    # Both ends of every hanging connection live in this process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} file descriptors; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def _register(hooks: Webhooks, urls: list[str]) -> None:
    # Concurrent creates share commits in the SQLite writer.
    for start in range(0, len(urls), 100):
        await asyncio.gather(*(hooks.endpoints.create("default", url) for url in urls[start : start + 100]))


async def _send_rounds(hooks: Webhooks) -> dict[str, float]:
    """One message to every endpoint per interval; returns when each was accepted."""
    sent_at: dict[str, float] = {}
    started = time.perf_counter()
    for n in range(ROUNDS):
        message = await hooks.trigger("tick", {"round": n})
        sent_at[message.id] = time.perf_counter()
        await asyncio.sleep(max(0.0, started + (n + 1) * ROUND_INTERVAL - time.perf_counter()))
    return sent_at


SLOW_BACKLOG = 60
FAST = 5
FAST_LIMIT = 4.0  # seconds; behind the slow backlog they would wait about 11 s


@pytest.mark.timeout(60)
async def test_a_slow_endpoints_backlog_does_not_hide_the_others(database_url: str) -> None:
    # A small worker: two requests at a time per endpoint, claims of at most eight, so the
    # look-ahead of a claim is sixteen deliveries; the slow endpoint's backlog is far deeper.
    settings = loopback_settings(endpoint_concurrency=2, concurrency=8, claim_batch=8)
    hooks = await Webhooks(database_url, settings=settings).open()
    try:
        async with Receiver(default=Reply(200, delay=0.5)) as slow, Receiver() as fast:
            await hooks.endpoints.create("default", slow.url, filter_types=["slow"])
            await hooks.endpoints.create("default", fast.url, filter_types=["fast"])
            # One first, so the worker knows it answers: then it is given its full share and
            # nothing of it is handed back, and the rest of its backlog waits at the head of
            # the queue, where every claim looks first.
            await hooks.trigger("slow", {"n": -1})
            await hooks.wait_until_idle()
            for n in range(SLOW_BACKLOG):
                await hooks.trigger("slow", {"n": n})
            await slow.wait_for(3, timeout=10)
            sent = time.perf_counter()
            for n in range(FAST):
                await hooks.trigger("fast", {"n": n})
            arrived = await fast.wait_for(FAST, timeout=30)
            took = max(request.received_at for request in arrived) - sent
            slow_done = len(slow.requests)
    finally:
        await hooks.close(grace=0.1)

    print(
        f"\n{FAST} messages behind a backlog of {SLOW_BACKLOG} to an endpoint answering in 0.5 s: "
        f"all arrived {took:.2f} s after sending ({slow_done} slow ones delivered by then)"
    )
    assert took < FAST_LIMIT
