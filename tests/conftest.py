"""Shared fixtures: a fresh SQLite database per test, a scripted receiver on 127.0.0.1, and an
engine that may deliver to loopback with a fast retry schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from hookwire import Settings, Webhooks
from hookwire.testing import Receiver
from tests import postgres

#: Fast enough for tests, slow enough that retries are distinguishable.
TEST_SCHEDULE = (0, 0.05, 0.05, 0.05)
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hookwire.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def each_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each backend in turn: a module whose ``database_url`` returns it
    runs every test on both."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'hookwire.db'}"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        allow_networks=LOOPBACK, retry_schedule=TEST_SCHEDULE, retry_jitter=0.0, poll_interval=0.2
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


@pytest.fixture
async def hooks(database_url: str, settings: Settings) -> AsyncIterator[Webhooks]:
    async with Webhooks(database_url, settings=settings) as engine:
        yield engine


HooksFactory = Callable[..., Awaitable[Webhooks]]


@pytest.fixture
async def make_hooks(database_url: str) -> AsyncIterator[HooksFactory]:
    """Open engines with other settings on the test's database; all are closed afterwards."""
    opened: list[Webhooks] = []

    async def make(settings: Settings | None = None, *, worker: bool = True) -> Webhooks:
        engine = await Webhooks(database_url, settings=settings, worker=worker).open()
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        await engine.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An admin URL of a running PostgreSQL with the migrated template database."""
    for url in postgres.admin_url():
        postgres.create_template(url)
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    url = postgres.clone(postgres_server)
    yield url
    postgres.drop(postgres_server, url)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI nothing may be skipped silently: the PostgreSQL and browser tests must run."""
    if not postgres.in_ci() or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        for report in skipped:
            print(f"skipped in CI: {report.nodeid}: {report.longrepr}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
