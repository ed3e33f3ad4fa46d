"""Fan-out: each message goes to 10 endpoints (ten paths of the fast receiver), written as one
message and ten deliveries in one transaction, delivered by the embedded worker.

Reported: messages/s and deliveries/s end to end (first ``trigger()`` to the last committed
success), beside a raw aiohttp client posting the same number of bodies round-robin to the
same ten URLs with as many requests in flight as the worker may have (its ``concurrency``).
"""

from __future__ import annotations

from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import bench_settings, end_to_end, raw_aiohttp
from hookwire.benchmarks.runner import Result, Samples, Table, number, runs_text

NAME = "fanout"
ENDPOINTS = 10
RAW = "raw aiohttp"


async def measure(env: BenchEnvironment) -> Result:
    options = env.options
    messages = max(options.messages // ENDPOINTS, 1)
    deliveries = messages * ENDPOINTS
    urls = [f"{env.receiver_url}fanout/{i}" for i in range(ENDPOINTS)]
    settings = bench_settings(endpoint_in_flight=options.in_flight)
    samples = Samples()  # deliveries/s
    lost: dict[str, list[int]] = {}
    for _ in range(options.runs):  # interleaved, so that noise hits every contender alike
        await env.receiver.reset()
        samples.add(RAW, await raw_aiohttp(urls, deliveries, settings.concurrency))
        for backend in env.backends():
            name = f"hookwire end to end, {backend}"
            database = env.database_url(backend, f"fanout {backend}")
            await env.receiver.reset()
            samples.add(name, deliveries / await end_to_end(database, urls, messages, settings))
            lost.setdefault(name, []).append(max(deliveries - await env.receiver.requests(), 0))
            env.discard(database)
    return _result(env, samples, lost, messages)


def _result(env: BenchEnvironment, samples: Samples, lost: dict[str, list[int]], messages: int) -> Result:
    raw = samples.median(RAW)
    rows, data = [], {}
    for name, values in samples.runs.items():
        median = samples.median(name)
        is_raw = name == RAW
        rows.append(
            (
                name,
                "-" if is_raw else number(median / ENDPOINTS),
                number(median),
                number(median / raw, 2),
                "-" if is_raw else runs_text(lost[name]),
                runs_text(values),
            )
        )
        data[name] = {"deliveries_per_s": median, "messages_per_s": median / ENDPOINTS, "runs": values}
        data[name]["lost"] = lost.get(name, [])
        data[name]["ratio_to_raw"] = median / raw
    title = (
        f"Fan-out: {messages:,} messages of ~1 KB, each to {ENDPOINTS} endpoints, "
        f"median of {env.options.runs} interleaved runs"
    )
    columns = (
        "contender",
        "messages/s",
        "deliveries/s",
        "ratio to raw",
        "lost per run",
        "runs (deliveries/s)",
    )
    table = Table(title, columns, rows)
    return Result(
        NAME, tables=[table], data={"messages": messages, "endpoints": ENDPOINTS, "contenders": data}
    )
