"""The SQLite writer thread: group commit, and each answer back to the loop that waits for it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookwire.core.errors import Conflict
from hookwire.store.sqlite_writer import Writer


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    path = tmp_path / "w.db"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("CREATE TABLE IF NOT EXISTS item (n INTEGER PRIMARY KEY)")
        return connection

    running = Writer(connect)
    yield running
    running.close()


def insert(n: int) -> Callable[[sqlite3.Connection], int]:
    def job(c: sqlite3.Connection) -> int:
        if n < 0:
            raise Conflict(f"no negative items: {n}")
        c.execute("INSERT INTO item (n) VALUES (?)", (n,))
        return n

    return job


def count(c: sqlite3.Connection) -> int:
    return int(c.execute("SELECT count(*) FROM item").fetchone()[0])


async def test_every_caller_gets_its_own_answer_and_one_failure_undoes_nothing_else(
    writer: Writer,
) -> None:
    outcomes = await asyncio.gather(
        *(writer.submit(insert(n)) for n in range(-3, 50)), return_exceptions=True
    )
    assert outcomes[3:] == list(range(50))
    assert all(isinstance(o, Conflict) and str(-3 + i) in str(o) for i, o in enumerate(outcomes[:3]))
    assert await writer.submit(count) == 50


async def test_a_cancelled_caller_s_write_stands(writer: Writer) -> None:
    gate = threading.Event()
    blocked = asyncio.ensure_future(writer.submit(lambda c: gate.wait(10)))
    cancelled = asyncio.ensure_future(writer.submit(insert(7)))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    gate.set()
    await blocked
    assert await writer.submit(count) == 1
    assert cancelled.cancelled()


def test_callers_on_several_event_loops_are_each_answered(writer: Writer) -> None:
    answers: dict[int, list[int]] = {}

    def loop_in_thread(first: int) -> None:
        async def submit_some() -> list[int]:
            return list(await asyncio.gather(*(writer.submit(insert(first + n)) for n in range(20))))

        answers[first] = asyncio.run(submit_some())

    threads = [threading.Thread(target=loop_in_thread, args=(first,)) for first in (0, 100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {first: list(range(first, first + 20)) for first in (0, 100, 200)}


async def test_after_commit_runs_only_for_the_jobs_whose_writes_were_committed(writer: Writer) -> None:
    ran: list[int] = []

    def insert_then(n: int) -> Callable[[sqlite3.Connection], int]:
        def job(c: sqlite3.Connection) -> int:
            writer.after_commit(lambda: ran.append(n))
            return insert(n)(c)  # a negative n raises after asking: its callback must not run

        return job

    gate = threading.Event()
    blocked = asyncio.ensure_future(writer.submit(lambda c: gate.wait(10)))
    await asyncio.sleep(0.05)  # the writer waits at the gate: the three jobs queue up behind it
    jobs = asyncio.gather(*(writer.submit(insert_then(n)) for n in (1, -1, 2)), return_exceptions=True)
    await asyncio.sleep(0.05)
    gate.set()
    await blocked
    outcomes = await jobs

    assert outcomes[0::2] == [1, 2]
    assert isinstance(outcomes[1], Conflict)
    assert sorted(ran) == [1, 2]  # once each, though the batch ran twice (together, then alone)


async def test_after_commit_runs_before_the_callers_are_answered(writer: Writer) -> None:
    ran = threading.Event()

    def job(c: sqlite3.Connection) -> bool:
        writer.after_commit(ran.set)
        return ran.is_set()

    assert await writer.submit(job) is False
    assert ran.is_set()
