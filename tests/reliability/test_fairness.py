"""1,000 endpoints that never answer beside 100 healthy ones: the healthy ones keep being served
within seconds while the hanging ones hold connections open until they time out."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import time

import pytest

from hookwire import Webhooks
from hookwire.testing import Receiver
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
