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
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend: Store
    if request.param == "postgres":
        backend = PostgresStore(request.getfixturevalue("postgres_url"))
    else:
        backend = SQLiteStore(tmp_path / "contract.db")
    await backend.migrate()
    try:
        yield backend
    finally:
        await backend.close()
