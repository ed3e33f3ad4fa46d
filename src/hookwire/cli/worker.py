"""``hookwire worker`` (deliver until stopped) and ``hookwire migrate``."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated

import typer

from hookwire.cli.common import (
    DEFAULT_DB,
    AllowNetwork,
    DatabaseUrl,
    console,
    environment_settings,
    errors,
    redacted,
    reported_errors,
    run,
)
from hookwire.core.settings import Settings
from hookwire.delivery.worker import Worker
from hookwire.store.factory import open_store


def settings_from_options(
    allow_network: list[str] | None,
    *,
    concurrency: int | None = None,
    lease_seconds: float | None = None,
    poll_interval: float | None = None,
    request_timeout: float | None = None,
) -> Settings:
    """Build settings from CLI options; an option left out keeps the library's default."""
    networks = [cidr for value in allow_network or () for cidr in value.split()]
    changes: dict[str, object] = {"allow_networks": networks}
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if lease_seconds is not None:
        changes["lease"] = timedelta(seconds=lease_seconds)
    if poll_interval is not None:
        changes["poll_interval"] = poll_interval
    if request_timeout is not None:
        changes["request_timeout"] = request_timeout
    return environment_settings().with_changes(**changes)


def worker(
    database_url: DatabaseUrl = DEFAULT_DB,
    concurrency: Annotated[
        int,
        typer.Option(envvar="HOOKWIRE_CONCURRENCY", help="Requests in flight at once."),
    ] = 128,
    allow_network: AllowNetwork = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            envvar="HOOKWIRE_LEASE_SECONDS",
            help="How long a claimed delivery stays ours before another worker may take it.",
        ),
    ] = 90.0,
    request_timeout: Annotated[
        float,
        typer.Option(
            envvar="HOOKWIRE_REQUEST_TIMEOUT",
            help="Seconds per attempt in all.",
        ),
    ] = 15.0,
    poll_interval: Annotated[
        float,
        typer.Option(
            envvar="HOOKWIRE_POLL_INTERVAL",
            help="Longest sleep between looks at the database when nothing wakes the worker.",
        ),
    ] = 1.0,
    grace: Annotated[float, typer.Option(help="Seconds to let requests in flight finish on SIGTERM.")] = 10.0,
) -> None:
    """Deliver webhooks from the database until SIGTERM or Ctrl-C (then drain gracefully)."""
    with reported_errors():
        settings = settings_from_options(
            allow_network,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            request_timeout=request_timeout,
        )
    run(_work(database_url, settings, grace))


async def _work(database_url: str, settings: Settings, grace: float) -> None:
    store = open_store(database_url, encryption_key=settings.encryption_key)
    try:
        await store.migrate()
        delivery_worker = Worker(store, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await delivery_worker.start()
        errors.print(
            f"hookwire worker delivering from {redacted(database_url)} (concurrency {settings.concurrency})"
        )
        await stop.wait()
        errors.print("stopping: finishing requests in flight ...")
        await delivery_worker.stop(grace=grace)
        errors.print("stopped")
    finally:
        await store.close()


def migrate(database_url: DatabaseUrl = DEFAULT_DB) -> None:
    """Create or upgrade the database schema."""

    async def action() -> None:
        store = open_store(database_url)
        try:
            await store.migrate()
        finally:
            await store.close()

    run(action())
    console.print(f"[green]database up to date[/] ({redacted(database_url)})")
