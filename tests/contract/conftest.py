"""The store fixture: every contract test runs against every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hookwire.store.base import Store
from hookwire.store.postgres import PostgresStore
from hookwire.store.sqlite import SQLiteStore

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(backend, location)``: a PostgreSQL URL or a SQLite file, empty."""
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("postgres_url")
    return "sqlite", str(tmp_path / "contract.db")


def open_backend(database: tuple[str, str]) -> Store:
    backend, location = database
    return PostgresStore(location) if backend == "postgres" else SQLiteStore(location)


@pytest.fixture
async def store(database: tuple[str, str]) -> AsyncIterator[Store]:
    backend = open_backend(database)
    await backend.migrate()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def peer(store: Store, database: tuple[str, str]) -> AsyncIterator[Store]:
    """A second store on the same database, as a worker on another machine has."""
    backend = open_backend(database)
    try:
        yield backend
    finally:
        await backend.close()
