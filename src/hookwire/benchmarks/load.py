"""Load shared by the scenarios: the ~1 KB payload, a raw aiohttp client (the ceiling for an
aiohttp-based sender), and hookwire end to end and draining a stored backlog."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

import aiohttp
import orjson

from hookwire import DeliveryEvent, Settings, Webhooks
from hookwire.benchmarks.backlog_load import analyze_postgres

PAYLOAD = {"type": "invoice.paid", "data": {"id": "in_123", "note": "x" * 940}}
BODY = orjson.dumps(PAYLOAD)
EVENT_TYPE = "invoice.paid"
#: Concurrent callers of ``trigger()``: enough to keep the writer's group commits full.
PRODUCERS = 64


def bench_settings(*, endpoint_in_flight: int = 16, concurrency: int = 128) -> Settings:
    """Loopback allowed (the receiver is on 127.0.0.1); otherwise the library's defaults."""
    return Settings(
        allow_networks=["127.0.0.0/8"],
        endpoint_concurrency=endpoint_in_flight,
        concurrency=max(concurrency, endpoint_in_flight),
    )


async def raw_aiohttp(urls: Sequence[str], requests: int, in_flight: int) -> float:
    """Requests/s of a bare ``ClientSession`` posting ``BODY`` round-robin to ``urls`` with
    ``in_flight`` requests at once: nothing stored, nothing signed."""
    headers = {"content-type": "application/json"}
    targets = itertools.islice(itertools.cycle(urls), requests)
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane() -> None:
            for url in targets:
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(in_flight)))
        return requests / (time.perf_counter() - started)


class Tally:
    """Counts deliveries as the worker reports them, after their results are committed."""

    def __init__(self, hooks: Webhooks, expected: int) -> None:
        self.expected = expected
        self.delivered = 0
        self.failed = 0
        self._done = asyncio.Event()
        hooks.on_success(self._success)
        hooks.on_failure(self._failure)

    def _success(self, event: DeliveryEvent) -> None:
        self.delivered += 1
        if self.delivered >= self.expected:
            self._done.set()

    def _failure(self, event: DeliveryEvent) -> None:
        self.failed += 1
        self._done.set()

    async def wait(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._done.wait()
        if self.failed:
            raise RuntimeError(f"{self.failed} attempts failed")


async def trigger_all(hooks: Webhooks, messages: int, event_type: str = EVENT_TYPE) -> None:
    """``messages`` calls of ``trigger()`` from ``PRODUCERS`` concurrent callers."""
    remaining = iter(range(messages))

    async def producer() -> None:
        for _ in remaining:
            await hooks.trigger(event_type, PAYLOAD)

    await asyncio.gather(*(producer() for _ in range(PRODUCERS)))


def _deadline(deliveries: int) -> float:
    # Bounded, yet far above any plausible run: 50 deliveries/s would be a broken build.
    return 60 + deliveries / 50


async def end_to_end(
    database_url: str, urls: Sequence[str], messages: int, settings: Settings, event_type: str = EVENT_TYPE
) -> float:
    """Seconds from the first ``trigger()`` until the last delivery's success is committed, the
    worker running in this process; every URL in ``urls`` subscribes to ``event_type``."""
    hooks = Webhooks(database_url, settings=settings)
    tally = Tally(hooks, messages * len(urls))
    async with hooks:
        for url in urls:
            await hooks.add(event_type, url)
        started = time.perf_counter()
        await trigger_all(hooks, messages, event_type)
        await tally.wait(_deadline(messages * len(urls)))
        return time.perf_counter() - started


async def drain(database_url: str, urls: Sequence[str], messages: int, settings: Settings) -> float:
    """Seconds from worker start to the last committed success, the messages stored before."""
    async with Webhooks(database_url, settings=settings, worker=False) as hooks:
        for url in urls:
            await hooks.add(EVENT_TYPE, url)
        await trigger_all(hooks, messages)
    if database_url.startswith("postgres"):
        await asyncio.to_thread(analyze_postgres, database_url)
    hooks = Webhooks(database_url, settings=settings)
    tally = Tally(hooks, messages * len(urls))
    started = time.perf_counter()
    async with hooks:
        await tally.wait(_deadline(messages * len(urls)))
        return time.perf_counter() - started
