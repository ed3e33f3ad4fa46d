"""``hookwire demo``: the whole loop on one machine in a few seconds.

A local receiver (which verifies every signature and turns away the first try of one message
in ten, to show retries), the engine on SQLite, a few hundred events, a live progress bar,
the receipts, and a summary: delivered, retried, latency.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from aiohttp import web
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hookwire.cli.common import console, run, table
from hookwire.core.errors import WebhookVerificationError
from hookwire.core.settings import Settings
from hookwire.receiver import verify
from hookwire.service.webhooks import Webhooks

DEMO_SCHEDULE = (0, 0.2, 0.5, 1, 2)
EVENT_TYPES = ("order.created", "order.paid", "invoice.sent")


@dataclass
class Receipts:
    """What the demo receiver saw."""

    secret: str = ""
    arrivals: dict[str, float] = field(default_factory=dict)  # message id -> first verified arrival
    requests: dict[str, int] = field(default_factory=dict)  # message id -> requests seen
    rejected: int = 0
    last: list[tuple[str, str, int]] = field(default_factory=list)


def demo(
    events: Annotated[int, typer.Option(help="How many events to send.", min=1, max=100_000)] = 300,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL; a fresh temporary SQLite file by default.")
    ] = None,
) -> None:
    """Run a receiver and the engine locally and deliver a few hundred signed events."""
    ok = run(_demo(events, database_url))
    if not ok:
        raise typer.Exit(1)


async def _demo(events: int, database_url: str | None) -> bool:
    with tempfile.TemporaryDirectory(prefix="hookwire-demo-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'demo.db'}"
        receipts = Receipts()
        runner, port = await _start_receiver(receipts)
        try:
            return await _send_and_report(url, port, events, receipts)
        finally:
            await runner.cleanup()


async def _start_receiver(receipts: Receipts) -> tuple[web.AppRunner, int]:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            data = verify(body, request.headers, receipts.secret)
        except WebhookVerificationError:
            receipts.rejected += 1
            return web.Response(status=401)
        message_id = request.headers["webhook-id"]
        seen = receipts.requests[message_id] = receipts.requests.get(message_id, 0) + 1
        if seen == 1 and data["sequence"] % 10 == 7:
            return web.Response(status=500, text="try again later")  # shows a retry
        receipts.arrivals.setdefault(message_id, time.perf_counter())
        receipts.last = [*receipts.last[-7:], (message_id, data["type"], seen)]
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    return runner, port


async def _send_and_report(database_url: str, port: int, events: int, receipts: Receipts) -> bool:
    settings = Settings(allow_networks=["127.0.0.0/8"], retry_schedule=DEMO_SCHEDULE, retry_jitter=0.1)
    started_at: dict[str, float] = {}
    async with Webhooks(database_url, settings=settings) as hooks:
        endpoint = await hooks.endpoints.create(
            "default", f"http://127.0.0.1:{port}/webhooks", filter_types=["order.*", "invoice.sent"]
        )
        receipts.secret = endpoint.secret
        console.print(f"receiver on http://127.0.0.1:{port}/webhooks, endpoint {endpoint.id}")
        begin = time.perf_counter()
        with _progress() as progress:
            accepted = progress.add_task("accepted", total=events)
            delivered = progress.add_task("delivered", total=events)
            for start in range(0, events, 25):
                batch = range(start, min(start + 25, events))
                t0 = time.perf_counter()
                messages = await asyncio.gather(
                    *(
                        hooks.trigger(
                            EVENT_TYPES[i % 3], {"type": EVENT_TYPES[i % 3], "sequence": i, "amount": i * 7}
                        )
                        for i in batch
                    )
                )
                started_at.update((message.id, t0) for message in messages)
                progress.update(accepted, completed=len(started_at))
                progress.update(delivered, completed=len(receipts.arrivals))
            deadline = time.perf_counter() + 30
            while len(receipts.arrivals) < events and time.perf_counter() < deadline:
                progress.update(delivered, completed=len(receipts.arrivals))
                await asyncio.sleep(0.05)
            progress.update(delivered, completed=len(receipts.arrivals))
        elapsed = time.perf_counter() - begin
    return _report(receipts, started_at, events, elapsed)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _report(receipts: Receipts, started_at: dict[str, float], events: int, elapsed: float) -> bool:
    console.print(
        table(
            "last verified receipts",
            ("message", "event type", "attempt"),
            receipts.last,
        )
    )
    latencies = sorted(
        (receipts.arrivals[m] - t0) * 1000 for m, t0 in started_at.items() if m in receipts.arrivals
    )
    retried = sum(1 for n in receipts.requests.values() if n > 1)
    delivered = len(receipts.arrivals)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    summary = table(
        "summary",
        ("sent", "delivered", "verified", "retried", "rejected", "p50", "p99", "elapsed"),
        [
            (
                events,
                delivered,
                f"{delivered}/{events}",
                retried,
                receipts.rejected,
                f"{p50:.1f} ms",
                f"{p99:.1f} ms",
                f"{elapsed:.2f} s",
            )
        ],
    )
    console.print(summary)
    ok = delivered == events and receipts.rejected == 0
    if ok:
        console.print(f"[bold green]all {events} events delivered and verified[/]")
    else:
        console.print(f"[bold red]{events - delivered} events not delivered, {receipts.rejected} rejected[/]")
    return ok
