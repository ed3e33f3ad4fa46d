"""PostgreSQL-specific behaviour: wake-ups across processes, the transactional outbox."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from hookwire import Settings, ValidationError, Webhooks
from hookwire.sync import Webhooks as SyncWebhooks
from hookwire.testing import Receiver

LOOPBACK = ["127.0.0.0/8"]
# A poll interval far longer than any wait below: a delivery that arrives in time was woken.
NO_POLLING = Settings(allow_networks=LOOPBACK, poll_interval=60.0)


async def test_a_message_created_elsewhere_wakes_an_idle_worker(
    postgres_url: str, receiver: Receiver
) -> None:
    async with Webhooks(postgres_url, settings=NO_POLLING) as worker_side:
        await worker_side.add("a.b", receiver.url)
        await asyncio.sleep(0.3)  # let the worker go idle
        async with Webhooks(postgres_url, worker=False) as api_side:
            started = time.perf_counter()
            await api_side.trigger("a.b", {"n": 1})
            await receiver.wait_for(1, timeout=5)
            assert time.perf_counter() - started < 5


async def test_the_notification_connection_comes_back(postgres_url: str, receiver: Receiver) -> None:
    async with Webhooks(postgres_url, settings=NO_POLLING) as worker_side:
        await worker_side.add("a.b", receiver.url)
        await asyncio.sleep(0.3)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query LIKE 'LISTEN%%' AND datname = current_database()"
            ).fetchall()
        assert killed, "no LISTEN connection found"
        await asyncio.sleep(1.0)  # reconnects after a short back-off
        async with Webhooks(postgres_url, worker=False) as api_side:
            await api_side.trigger("a.b", {"n": 2})
        await receiver.wait_for(1, timeout=10)


async def test_outbox_delivers_exactly_the_committed_transactions(postgres_url: str) -> None:
    async with (
        Receiver() as receiver,
        Webhooks(postgres_url, settings=Settings(allow_networks=LOOPBACK)) as hooks,
    ):
        await hooks.add("order.created", receiver.url)
        committed: set[int] = set()
        async with await psycopg.AsyncConnection.connect(postgres_url) as connection:
            await connection.execute("CREATE TABLE orders (id integer PRIMARY KEY)")
            await connection.commit()
            for n in range(1000):
                async with connection.transaction(force_rollback=n % 2 == 1):
                    await connection.execute("INSERT INTO orders VALUES (%s)", (n,))
                    await hooks.messages.create(
                        "default", "order.created", {"order": n}, connection=connection
                    )
                if n % 2 == 0:
                    committed.add(n)
            rows = await (await connection.execute("SELECT id FROM orders")).fetchall()
        assert {row[0] for row in rows} == committed
        await receiver.wait_for(len(committed), timeout=60)
        await hooks.wait_until_idle(timeout=30)
        assert {r.json()["order"] for r in receiver.requests} == committed


def test_outbox_with_blocking_connections(postgres_url: str, tmp_path: Path) -> None:
    """Django or SQLAlchemy code hands over its psycopg connection; plain scripts, sqlite3's."""
    with SyncWebhooks(postgres_url, worker=False) as hooks:
        with psycopg.connect(postgres_url) as connection:
            with connection.transaction():
                kept = hooks.messages.create("default", "a.b", {"n": 1}, connection=connection)
            with connection.transaction(force_rollback=True):
                dropped = hooks.messages.create("default", "a.b", {"n": 2}, connection=connection)
        assert hooks.messages.get("default", kept.id).data() == {"n": 1}
        with pytest.raises(Exception, match="not found"):
            hooks.messages.get("default", dropped.id)
        with pytest.raises(ValidationError):
            hooks.messages.create("default", "a.b", {}, connection=object())

    database = tmp_path / "app.db"
    with SyncWebhooks(f"sqlite:///{database}", worker=False) as hooks:
        local = sqlite3.connect(database)
        kept = hooks.messages.create("default", "a.b", {"n": 1}, connection=local)
        local.commit()
        dropped = hooks.messages.create("default", "a.b", {"n": 2}, connection=local)
        local.rollback()
        local.close()
        assert hooks.messages.get("default", kept.id).data() == {"n": 1}
        with pytest.raises(Exception, match="not found"):
            hooks.messages.get("default", dropped.id)
        other = sqlite3.connect(tmp_path / "other.db")
        with pytest.raises(ValidationError, match="not to hookwire's database"):
            hooks.messages.create("default", "a.b", {}, connection=other)
        other.close()


def test_cli_migrates_and_works_on_postgres(postgres_server: str) -> None:
    from tests.postgres import drop, with_database

    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS hookwire_cli WITH (FORCE)")
        admin.execute("CREATE DATABASE hookwire_cli")
    url = with_database(postgres_server, "hookwire_cli")
    try:
        hookwire = [sys.executable, "-m", "hookwire"]
        migrated = subprocess.run(
            [*hookwire, "migrate", "--database-url", url], capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stderr
        again = subprocess.run([*hookwire, "migrate", "--database-url", url], capture_output=True, text=True)
        assert again.returncode == 0, again.stderr  # idempotent
        added = subprocess.run(
            [*hookwire, "endpoint", "add", "https://example.com/", "--database-url", url],
            capture_output=True,
            text=True,
        )
        assert added.returncode == 0, added.stderr
    finally:
        drop(postgres_server, url)


def test_database_down_is_a_clear_error() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hookwire",
            "endpoint",
            "list",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4, result.stderr
    assert "database is unavailable" in result.stderr
    assert "Traceback" not in result.stderr
