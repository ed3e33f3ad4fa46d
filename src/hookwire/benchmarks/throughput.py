"""Throughput: delivered events/s of ~1 KB payloads to one fast local endpoint.

Contenders, interleaved run by run, all posting the same bodies to the same receiver process:

- **raw aiohttp**: a bare ``ClientSession``, nothing stored or signed: the ceiling for an
  aiohttp-based sender on this machine;
- **node-webhooks** (when ``node`` is installed): from a plain trigger loop, and with its caller
  throttled to 64 in flight; it keeps nothing durable, and the receiver counts what arrived;
- **hookwire end to end**, per database: 64 tasks call ``trigger()`` while the embedded worker
  runs; the clock stops when the last delivery's success is committed (accepted, persisted,
  claimed, signed, POSTed, recorded);
- **hookwire drain**, per database: the messages stored first; worker start to last success.

Then a sweep of requests in flight (throughput against load): raw aiohttp and hookwire end to
end on the first database, at each level of ``sweep``.
"""

from __future__ import annotations

from pathlib import Path

from hookwire.benchmarks import node_webhooks
from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.load import bench_settings, drain, end_to_end, raw_aiohttp
from hookwire.benchmarks.runner import Result, Samples, Table, number, runs_text

NAME = "throughput"
RAW = "raw aiohttp"
NODE_LOOP = "node-webhooks, plain loop"
NODE_THROTTLED = f"node-webhooks, {node_webhooks.THROTTLE} in flight"


class _Lost:
    """Events the receiver did not get, per contender and run."""

    def __init__(self) -> None:
        self.runs: dict[str, list[int]] = {}

    def add(self, name: str, sent: int, received: int) -> None:
        self.runs.setdefault(name, []).append(max(sent - received, 0))


async def _one_run(env: BenchEnvironment, samples: Samples, lost: _Lost, modules: Path | None) -> None:
    options, receiver = env.options, env.receiver
    url = f"{env.receiver_url}throughput"
    messages = options.messages

    async def counted(name: str, rate: float) -> None:
        samples.add(name, rate)
        lost.add(name, messages, await receiver.requests())

    await receiver.reset()
    await counted(RAW, await raw_aiohttp([url], messages, options.in_flight))
    if modules is not None:
        for name, mode in ((NODE_LOOP, "loop"), (NODE_THROTTLED, "throttled")):
            await receiver.reset()
            node = await node_webhooks.run(modules, url, messages, mode)
            await counted(name, node.per_second)
    settings = bench_settings(endpoint_in_flight=options.in_flight)
    for backend in env.backends():
        await receiver.reset()
        database = env.database_url(backend, f"e2e {backend}")
        seconds = await end_to_end(database, [url], messages, settings)
        await counted(f"hookwire end to end, {backend}", messages / seconds)
        env.discard(database)
        await receiver.reset()
        database = env.database_url(backend, f"drain {backend}")
        seconds = await drain(database, [url], messages, settings)
        await counted(f"hookwire drain, {backend}", messages / seconds)
        env.discard(database)


async def _sweep(env: BenchEnvironment) -> tuple[Samples, Samples]:
    options = env.options
    backend = env.backends()[0]
    url = f"{env.receiver_url}sweep"
    messages = max(options.messages // 2, 1)
    raw, hookwire = Samples(), Samples()
    for _ in range(options.runs):
        for level in options.sweep:
            raw.add(str(level), await raw_aiohttp([url], messages, level))
            database = env.database_url(backend, f"sweep {level}")
            settings = bench_settings(endpoint_in_flight=level)
            hookwire.add(str(level), messages / await end_to_end(database, [url], messages, settings))
            env.discard(database)
    return raw, hookwire


def _main_table(env: BenchEnvironment, samples: Samples, lost: _Lost) -> tuple[Table, dict[str, object]]:
    raw = samples.median(RAW)
    node_names = [name for name in (NODE_LOOP, NODE_THROTTLED) if name in samples]
    node_best = max(node_names, key=samples.median, default=None)
    rows = []
    data: dict[str, object] = {}
    for name, values in samples.runs.items():
        median = samples.median(name)
        versus_node = median / samples.median(node_best) if node_best else float("nan")
        rows.append(
            (
                name,
                number(median),
                number(median / raw, 2),
                number(versus_node, 2),
                runs_text(lost.runs[name]),
                runs_text(values),
            )
        )
        data[name] = {
            "median": median,
            "runs": values,
            "lost": lost.runs[name],
            "ratio_to_raw": median / raw,
            "ratio_to_node_best": versus_node,
        }
    options = env.options
    title = (
        f"Throughput: {options.messages:,} events of ~1 KB to one endpoint, {options.in_flight} in flight, "
        f"median of {options.runs} interleaved runs"
    )
    columns = (
        "contender",
        "events/s",
        "ratio to raw",
        "ratio to best node-webhooks",
        "lost per run",
        "runs (events/s)",
    )
    return Table(title, columns, rows), {"contenders": data, "node_best": node_best}


def _sweep_table(env: BenchEnvironment, raw: Samples, hookwire: Samples) -> tuple[Table, dict[str, object]]:
    rows = []
    for level in raw.runs:
        ratio = hookwire.median(level) / raw.median(level)
        rows.append((level, number(raw.median(level)), number(hookwire.median(level)), number(ratio, 2)))
    backend = env.backends()[0]
    events = max(env.options.messages // 2, 1)
    title = (
        f"Throughput against load: requests in flight, hookwire end to end on {backend}, {events:,} events"
    )
    table = Table(title, ("in flight", "raw aiohttp events/s", "hookwire events/s", "ratio"), rows)
    return table, {"backend": backend, "raw": raw.summary(), "hookwire": hookwire.summary()}


async def measure(env: BenchEnvironment) -> Result:
    modules = None
    if env.node_available():
        modules = node_webhooks.prepare(env.options.node_dir or node_webhooks.default_dir())
    else:
        env.notes.append("node-webhooks baseline skipped: node/npm not installed or turned off")
    samples, lost = Samples(), _Lost()
    for _ in range(env.options.runs):
        await _one_run(env, samples, lost, modules)
    main_table, main_data = _main_table(env, samples, lost)
    result = Result(
        NAME,
        tables=[main_table],
        data={"messages": env.options.messages, "in_flight": env.options.in_flight, **main_data},
    )
    if env.options.sweep:
        sweep_table, sweep_data = _sweep_table(env, *await _sweep(env))
        result.tables.append(sweep_table)
        result.data["sweep"] = sweep_data
    return result
