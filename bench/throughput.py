"""Delivered events/s: hookwire on SQLite against a raw aiohttp client, same machine, same run.

Both post the same 1 KB JSON bodies to the same fast local receiver (another process), with
the same number of requests in flight. hookwire is measured twice:

- end to end: messages are triggered while the worker runs; the clock stops when every
  delivery is recorded as succeeded (accepted, persisted, signed, POSTed, recorded);
- drain: the messages are already stored; the clock runs from worker start to the last
  recorded success.

Run: ``python -m bench.throughput [--messages 20000] [--runs 3]``.
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
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp

from hookwire import DeliveryEvent, Settings, Webhooks

PAYLOAD = {"type": "invoice.paid", "data": {"id": "in_123", "note": "x" * 940}}
EVENT_TYPE = "invoice.paid"


@contextlib.contextmanager
def receiver_process() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        process = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(port_file)])
        try:
            for _ in range(200):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}/"
        finally:
            process.terminate()
            process.wait(timeout=10)


async def raw_client(url: str, messages: int, in_flight: int) -> float:
    """The ceiling: a bare aiohttp session posting the same bodies, nothing stored or signed."""
    body = json.dumps(PAYLOAD).encode()
    headers = {"content-type": "application/json"}
    remaining = iter(range(messages))
    async with aiohttp.ClientSession() as session:

        async def lane() -> None:
            for _ in remaining:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(in_flight)))
        return messages / (time.perf_counter() - started)


class Tally:
    """Counts results as the worker reports them, after they are durably recorded."""

    def __init__(self, hooks: Webhooks, expected: int) -> None:
        self.expected = expected
        self.delivered = 0
        self.failed = 0
        self.done = asyncio.Event()
        hooks.on_success(self._success)
        hooks.on_failure(self._failure)

    def _success(self, event: DeliveryEvent) -> None:
        self.delivered += 1
        if self.delivered >= self.expected:
            self.done.set()

    def _failure(self, event: DeliveryEvent) -> None:
        self.failed += 1
        self.done.set()

    async def wait(self) -> None:
        await self.done.wait()
        if self.failed:
            raise RuntimeError(f"{self.failed} attempts failed")


def _settings(in_flight: int) -> Settings:
    return Settings(
        allow_networks=["127.0.0.0/8"], endpoint_concurrency=in_flight, concurrency=max(in_flight, 128)
    )


async def hookwire_end_to_end(url: str, messages: int, in_flight: int, folder: Path) -> float:
    hooks = Webhooks(f"sqlite:///{folder / 'e2e.db'}", settings=_settings(in_flight))
    tally = Tally(hooks, messages)
    async with hooks:
        await hooks.add(EVENT_TYPE, url)
        remaining = iter(range(messages))

        async def producer() -> None:
            for _ in remaining:
                await hooks.trigger(EVENT_TYPE, PAYLOAD)

        started = time.perf_counter()
        await asyncio.gather(*(producer() for _ in range(64)))
        await tally.wait()
        return messages / (time.perf_counter() - started)


async def hookwire_drain(url: str, messages: int, in_flight: int, folder: Path) -> float:
    database_url = f"sqlite:///{folder / 'drain.db'}"
    async with Webhooks(database_url, settings=_settings(in_flight), worker=False) as hooks:
        await hooks.add(EVENT_TYPE, url)
        remaining = iter(range(messages))

        async def producer() -> None:
            for _ in remaining:
                await hooks.trigger(EVENT_TYPE, PAYLOAD)

        await asyncio.gather(*(producer() for _ in range(64)))
    hooks = Webhooks(database_url, settings=_settings(in_flight))
    tally = Tally(hooks, messages)
    started = time.perf_counter()
    async with hooks:
        await tally.wait()
        return messages / (time.perf_counter() - started)


Scenario = Callable[[str, int, int, Path], Awaitable[float]]


async def measure(url: str, messages: int, in_flight: int, runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"raw aiohttp": [], "hookwire end to end": [], "hookwire drain": []}
    for _ in range(runs):
        # Interleaved, so that a noisy moment on the machine hits every contender alike.
        results["raw aiohttp"].append(await raw_client(url, messages, in_flight))
        with tempfile.TemporaryDirectory() as folder:
            results["hookwire end to end"].append(
                await hookwire_end_to_end(url, messages, in_flight, Path(folder))
            )
            results["hookwire drain"].append(await hookwire_drain(url, messages, in_flight, Path(folder)))
    return results


def report(results: dict[str, list[float]], args: argparse.Namespace) -> dict[str, object]:
    raw = statistics.median(results["raw aiohttp"])
    print(f"\n{args.messages} messages of ~1 KB, {args.in_flight} in flight, median of {args.runs} runs")
    print(f"{'':24}{'events/s':>10}{'ratio to raw':>14}   runs")
    summary: dict[str, object] = {"messages": args.messages, "in_flight": args.in_flight, "runs": args.runs}
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:24}{median:10.0f}{median / raw:14.2f}   {', '.join(f'{v:.0f}' for v in values)}")
        summary[name] = {"median": median, "ratio": median / raw, "runs": values}
    summary["cpu"] = os.cpu_count()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/results/throughput.json"))
    args = parser.parse_args()
    with receiver_process() as url:
        try:
            import uvloop
        except ImportError:
            results = asyncio.run(measure(url, args.messages, args.in_flight, args.runs))
        else:
            results = uvloop.run(measure(url, args.messages, args.in_flight, args.runs))
    summary = report(results, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
